#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (Playwright drives /usr/bin/chromium;
# `playwright install` is never used). Idempotent and silent when chromium is already there.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x /usr/bin/chromium ]; then
  bash apt_install.sh chromium /usr/bin/chromium "for tests/browser"
  /usr/bin/chromium --version
fi
