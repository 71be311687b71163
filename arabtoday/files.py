"""The one way the project replaces a file: written beside it, made durable, renamed over it.

A reader (a person, a scheduler, another run) sees the old file or the whole
new one, never half of it; when anything fails, the temporary file is removed,
so none is left behind that looks like output. The run report, ``merge``, the
dataset export and its card all write through :func:`atomic_file`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def temporary_name(path: Path) -> Path:
    """The name a file is written under before it is renamed to ``path`` (hidden, and unique to this process)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


@contextlib.contextmanager
def atomic_file(path: Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO[Any]]:
    """``with atomic_file(path) as fh: fh.write(...)``: ``path`` appears whole when the block ends
    without an error (flushed, fsynced, renamed), and is left as it was otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        with tmp.open(mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # still there only when something failed


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8), atomically."""
    with atomic_file(path, "w", encoding="utf-8") as fh:
        fh.write(text)
