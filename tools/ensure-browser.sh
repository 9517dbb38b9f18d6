#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium: the browser suites (test/console.test.ts,
# test/browser-cors.test.ts) drive it with playwright-core, which never downloads one.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/lib.sh

CHROMIUM=/usr/bin/chromium
if [ ! -x "$CHROMIUM" ]; then
  apt_install chromium
  [ -x "$CHROMIUM" ] || die "chromium was installed but $CHROMIUM is still missing"
fi
