#!/usr/bin/env bash
# The browser tests drive the system Chromium (playwright-core never downloads one). Make sure
# it is there: install Debian's package when possible, otherwise say exactly what is missing.
set -euo pipefail
CHROMIUM="${SYNCLINE_CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "syncline: installing chromium for the browser tests (apt-get)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "syncline: the browser tests need Chromium at $CHROMIUM (Debian/Ubuntu: sudo apt-get install chromium," >&2
echo "          or point SYNCLINE_CHROMIUM at an existing Chromium/Chrome binary)." >&2
exit 1
