#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through playwright-core; install it when it is missing.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "Browser tests need /usr/bin/chromium: run 'sudo apt-get install -y chromium' once." >&2
  exit 1
fi
echo "Installing Debian's chromium for the browser tests…"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
