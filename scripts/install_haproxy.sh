#!/usr/bin/env bash
# Installs Debian's haproxy for the cluster shape (`make run-cluster`, tests/cluster): the load
# balancer in front of the Rasa servers and the action servers. Idempotent and silent when haproxy
# is already there; the package's own service is not used (scripts/run_cluster.sh starts its own).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x /usr/sbin/haproxy ]; then
  bash apt_install.sh haproxy /usr/sbin/haproxy "for the cluster shape"
  # The package starts a system service with the default configuration: not ours, stop it.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet haproxy 2>/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then sudo systemctl stop haproxy || true; else systemctl stop haproxy || true; fi
  fi
  haproxy -v | sed -n 1p  # sed reads to the end: `head -1` closed the pipe and pipefail failed the fresh install (exit 141)
fi
