#!/usr/bin/env bash
# The programs some tests run for real, each a Debian package: redis-server (the distributed mode
# and the Redis state: the tests start their own server on a free loopback port, never whatever
# listens on 6379), chromium (the HTML run report, opened in a headless browser) and
# systemd-analyze (the systemd recipe, verified). Each missing one is installed with apt-get (as
# root; after an `apt-get update` when the first try fails: a fresh machine has no package lists).
#
# Exit status: 0 when every program is on PATH. Otherwise each missing one is named on stderr and
# the status is 1 under CI=true (a green CI must have run every test) and 0 elsewhere (those tests
# then skip, each saying why). Usage: ensure-tools.sh [PROGRAM:PACKAGE ...]
set -u
wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(redis-server:redis-server chromium:chromium systemd-analyze:systemd)
missing=()
for pair in "${wanted[@]}"; do
  program=${pair%%:*}; package=${pair#*:}
  command -v "$program" >/dev/null 2>&1 && continue
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-tools: installing $package from Debian's packages (for $program)" >&2
    export DEBIAN_FRONTEND=noninteractive
    (apt-get install -y -qq "$package" || (apt-get update -qq && apt-get install -y -qq "$package")) \
      >/dev/null 2>&1 || true
  fi
  command -v "$program" >/dev/null 2>&1 || missing+=("$program")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "ensure-tools: missing and not installable here (needs root and apt-get): ${missing[*]}" >&2
case "${CI:-}" in true|1|yes) exit 1 ;; esac
exit 0
