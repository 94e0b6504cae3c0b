#!/usr/bin/env bash
# Installs one Debian package when a file it provides is missing: `apt_install.sh PACKAGE FILE WHY`.
# Used for chromium (the browser tests) and haproxy (the cluster shape). Idempotent and silent when
# FILE is there. Waits up to 10 minutes for another apt-get or dpkg to let go of its lock (two
# set-ups on one machine at once, or the machine's own updates) instead of failing at once.
set -euo pipefail

package=$1 file=$2 why=$3
if [ -x "$file" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

echo "installing Debian's $package ($why)"
export DEBIAN_FRONTEND=noninteractive
lock=(-o DPkg::Lock::Timeout=600)
$SUDO apt-get "${lock[@]}" update -qq
$SUDO apt-get "${lock[@]}" install -y -qq --no-install-recommends "$package" >/dev/null
