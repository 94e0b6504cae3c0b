#!/usr/bin/env bash
# Installs Debian's chromium for the console's browser test (Playwright drives /usr/bin/chromium;
# `playwright install` is never used). Idempotent and silent when chromium is already there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

echo "installing Debian's chromium (for tests/browser)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
