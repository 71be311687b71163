#!/usr/bin/env bash
# The HTML run report's test opens the page in a real headless browser. This
# makes sure Debian's chromium is there (as ensure-redis.sh does for Redis):
# installed with apt-get when missing, after an `apt-get update` when the
# first try fails (a fresh machine has no package lists). Without root or a
# package manager the browser test skips with a message.
set -u
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: installing chromium from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y -qq chromium || (apt-get update -qq && apt-get install -y -qq chromium)) >/dev/null 2>&1 \
    || echo "ensure-chromium: could not install chromium; the browser test will be skipped" >&2
else
  echo "ensure-chromium: no chromium and no way to install it; the browser test will be skipped" >&2
fi
exit 0
