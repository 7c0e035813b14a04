#!/usr/bin/env bash
# Installs what the browser tests drive when it is missing: Debian's
# Chromium (/usr/bin/chromium). playwright-core comes from npm in the tests.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "Chromium is not installed: installing Debian's chromium with apt-get" >&2
install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
install || { apt-get update -qq && install; }
