"""Project settings for running the README's recipes in tests: the project's own, with only
the politeness delays off (retries, backoff and timeouts stay on)."""

from arabtoday.settings import *  # noqa: F403

DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = False
ARABTODAY_RETRY_BACKOFF_BASE = 0.2
