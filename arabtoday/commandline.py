"""One way to build a ``scrapy crawl arabtoday`` command line (demo, tests, benchmarks).

``NO_POLITENESS`` turns off only the delays that exist to spare the live site
(``DOWNLOAD_DELAY``, AutoThrottle); retries, backoff and timeouts stay on, shortened,
because a crawl of a local copy must behave like the real one.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

NO_POLITENESS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "ARABTODAY_RETRY_BACKOFF_BASE": "0.2",  # shortened, never zero: backoff is behaviour under test
}


def crawl_command(base_url: str, output: Path | None = None, *spider_args: str,
                  settings: Mapping[str, object] | None = None, overwrite: bool = True,
                  python: str = sys.executable) -> list[str]:
    """``python -m scrapy crawl arabtoday -a base_url=… [-O output] -a … -s …``."""
    cmd = [python, "-m", "scrapy", "crawl", "arabtoday", "-a", f"base_url={base_url}"]
    if output is not None:
        cmd += ["-O" if overwrite else "-o", str(output)]
    for arg in spider_args:
        cmd += ["-a", arg]
    for name, value in (settings or {}).items():
        cmd += ["-s", f"{name}={value}"]
    return cmd
