"""Files the project writes: the one atomic replacement, and whether a path can be written at all.

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
from urllib.parse import unquote, urlsplit

PROBE_NAME = ".arabtoday-write-probe"  # created and removed to see that a templated output's directory takes files


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


def local_path(uri: str) -> Path | None:
    """The file a feed URI writes (for a templated one, ``%(time)s``, a probe in the deepest directory
    that has no placeholder); None when it is not a local file (stdout, another storage)."""
    if uri == "-" or uri.startswith(("-:", "stdout:")):
        return None
    parts = urlsplit(uri)
    if len(parts.scheme) > 1 and parts.scheme != "file":  # s3:, ftp:, gs: (one letter: a drive)
        return None
    path = Path(unquote(parts.path)) if parts.scheme == "file" else Path(uri)
    if "%(" not in str(path):
        return path
    kept: list[str] = []
    for part in path.parent.parts:
        if "%(" in part:
            break
        kept.append(part)
    return Path(*kept, PROBE_NAME) if kept else Path(PROBE_NAME)


def writable(path: Path) -> str | None:
    """Why ``path`` cannot be written, or None."""
    for parent in [path.parent, *path.parent.parents]:
        if parent.exists():
            if not parent.is_dir():
                return f"{parent} is a file, not a directory"
            break
    if path.is_dir():
        return "it is a directory"
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab"):
            pass
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
        return f"{exc.strerror or exc}{where}"
    if not existed:
        path.unlink(missing_ok=True)
    return None


def unwritable(settings: Any) -> list[str]:
    """Every file or directory a crawl will write that cannot be written, one line each, found before
    the crawl requests anything: the outputs (``FEEDS``), the report (``ARABTODAY_REPORT_PATH``), the
    log (``LOG_FILE``), a paused job's directory (``JOBDIR``) and the HTTP cache (``HTTPCACHE_DIR``).
    Directories are created as Scrapy would create them; a file is opened for appending (never
    truncated) and removed again when this created it."""
    targets: list[tuple[str, str, Path | None]] = [
        ("output", str(uri), local_path(str(uri))) for uri in settings.getdict("FEEDS")]
    for name, what in (("ARABTODAY_REPORT_PATH", "report"), ("LOG_FILE", "log")):
        if settings.get(name):
            targets.append((what, str(settings.get(name)), Path(str(settings.get(name)))))
    if settings.get("ARABTODAY_WARC_DIR"):
        warc = str(settings.get("ARABTODAY_WARC_DIR"))
        targets.append(("WARC directory", warc, Path(warc) / PROBE_NAME))
    if settings.get("JOBDIR"):
        targets.append(("job directory", str(settings.get("JOBDIR")), Path(str(settings.get("JOBDIR"))) / PROBE_NAME))
    if settings.getbool("HTTPCACHE_ENABLED"):
        from scrapy.utils.project import data_path

        cache = Path(data_path(str(settings.get("HTTPCACHE_DIR")), createdir=False))
        targets.append(("HTTP cache", str(cache), cache / PROBE_NAME))
    found = []
    for what, named, path in targets:
        problem = writable(path) if path is not None else None
        if problem:
            found.append(f"cannot write the {what} {named}: {problem}")
    return found
