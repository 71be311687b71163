"""``scrapy check``: Scrapy's contracts, run against the copy of the site that is configured, or one clear line.

The spider's contracts (``@site_url``, ``@returns``, ``@scrapes``) fetch a
sample article of the site at ``ARABTODAY_BASE_URL`` (the live site by
default). When that address does not answer (no network, a typo, the copy
not served), Scrapy would print a DNS or connection traceback per contract;
this command says so in one line, with the way to check against the bundled
copy instead (``make serve``, then ``scrapy check -s ARABTODAY_BASE_URL=…``),
and exits 1.
"""

from __future__ import annotations

import argparse
import socket
import sys
from urllib.parse import urlsplit

from scrapy.commands.check import Command as ScrapyCheck

PROBE_SECONDS = 10.0
COPY = "http://127.0.0.1:8000"  # where make serve puts the bundled copy


class Command(ScrapyCheck):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        base = str(opts.spargs.get("base_url") or self.settings.get("ARABTODAY_BASE_URL"))
        if not opts.list:
            problem = unreachable(base, min(PROBE_SECONDS, self.settings.getfloat("DOWNLOAD_TIMEOUT")))
            if problem:
                sys.stderr.write(f"arabtoday: scrapy check reads sample pages of the site at {base}, which does not "
                                 f"answer ({problem}); check against the bundled copy instead: make serve, then "
                                 f"scrapy check -s ARABTODAY_BASE_URL={COPY} arabtoday\n")
                self.exitcode = 1
                return
        super().run(args, opts)


def unreachable(base_url: str, timeout: float) -> str | None:
    """Why nothing listens at ``base_url`` (the name does not resolve, the port refuses), or None."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return None
    except socket.gaierror as exc:
        return f"{parts.hostname}: {exc.strerror or exc}"
    except OSError as exc:
        return f"{parts.hostname}:{port}: {exc.strerror or exc}"
