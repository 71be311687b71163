#!/usr/bin/env bash
# The distributed-mode tests need a real Redis. They start their own
# redis-server on a free loopback port when the binary exists; this makes sure
# it does (Debian's package) when the machine has neither a server on 6379 nor
# the binary. Without root or a package manager the tests skip with a message.
set -u
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
if (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-redis: installing redis-server from Debian's packages" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null 2>&1 \
    || echo "ensure-redis: could not install redis-server; Redis tests will be skipped" >&2
else
  echo "ensure-redis: no Redis and no way to install it; Redis tests will be skipped" >&2
fi
exit 0
