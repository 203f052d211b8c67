#!/usr/bin/env bash
# The browser tests drive the system Chromium (playwright-core never downloads one). Make sure
# it is there: install Debian's package when possible, otherwise say exactly what is missing.
#
#   bash scripts/ensure-browser.sh               install in the foreground, saying what it does
#   bash scripts/ensure-browser.sh --background  start the install and return at once (`pnpm test`):
#                                                the browser tests wait for it (test/browser/chromium-install.ts)
#
# The background install leaves its state in $SYNCLINE_CHROMIUM_INSTALL_DIR (default
# ${TMPDIR:-/tmp}/syncline-chromium-install): `pid` while it runs, then `status` (apt's exit code)
# and `log` (apt's output).
set -euo pipefail
CHROMIUM="${SYNCLINE_CHROMIUM:-/usr/bin/chromium}"
STATE="${SYNCLINE_CHROMIUM_INSTALL_DIR:-${TMPDIR:-/tmp}/syncline-chromium-install}"
MODE="${1:-}"
[ -x "$CHROMIUM" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != "0" ]; then
  echo "syncline: the browser tests need Chromium at $CHROMIUM (Debian/Ubuntu: sudo apt-get install chromium," >&2
  echo "          or point SYNCLINE_CHROMIUM at an existing Chromium/Chrome binary)." >&2
  exit 1
fi

running() { [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; }

if ! running; then
  mkdir -p "$STATE"
  rm -f "$STATE/status" "$STATE/pid"
  : >"$STATE/log"
  # setsid: the install outlives this script and is not killed by a Ctrl-C meant for the tests
  # (dpkg interrupted halfway leaves a broken package database).
  setsid bash -c '
    echo "== apt-get update" >>"$0/log"
    apt-get update -qq >>"$0/log" 2>&1 &&
      echo "== apt-get install chromium" >>"$0/log" &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >>"$0/log" 2>&1
    echo $? >"$0/status.tmp" && mv "$0/status.tmp" "$0/status"
  ' "$STATE" </dev/null >/dev/null 2>&1 &
  echo $! >"$STATE/pid"
  echo "syncline: installing Chromium for the browser tests (apt-get update + install chromium, often 2-3 minutes; log: $STATE/log)" >&2
else
  echo "syncline: a Chromium install is already running (log: $STATE/log)" >&2
fi

if [ "$MODE" = "--background" ]; then
  echo "syncline: the Node tests run meanwhile; the browser tests wait for the install" >&2
  exit 0
fi

# Foreground: wait, saying every 15 s what apt is doing.
start=$SECONDS
while [ ! -f "$STATE/status" ]; do
  if ! running && [ ! -f "$STATE/status" ]; then
    echo "syncline: the Chromium install stopped without a result; the end of $STATE/log:" >&2
    tail -n 20 "$STATE/log" >&2
    exit 1
  fi
  sleep 1
  if (((SECONDS - start) % 15 == 0)); then
    step="$(grep '^== ' "$STATE/log" | tail -n 1 | sed 's/^== //')"
    echo "syncline: still installing Chromium ($((SECONDS - start)) s; ${step:-starting})" >&2
  fi
done
if [ "$(cat "$STATE/status")" != "0" ] || [ ! -x "$CHROMIUM" ]; then
  echo "syncline: installing Chromium failed; the end of $STATE/log:" >&2
  tail -n 20 "$STATE/log" >&2
  exit 1
fi
echo "syncline: Chromium installed in $((SECONDS - start)) s" >&2
