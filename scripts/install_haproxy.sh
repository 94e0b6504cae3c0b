#!/usr/bin/env bash
# Installs Debian's haproxy for the cluster shape (`make run-cluster`, tests/cluster): the load
# balancer in front of the Rasa servers and the action servers. Idempotent and silent when haproxy
# is already there; the package's own service is not used (scripts/run_cluster.sh starts its own).
set -euo pipefail

if command -v haproxy >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

echo "installing Debian's haproxy (for the cluster shape)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends haproxy >/dev/null
# The package starts a system service with the default configuration: not ours, stop it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet haproxy 2>/dev/null; then
  $SUDO systemctl stop haproxy || true
fi
haproxy -v | head -1
