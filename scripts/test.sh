#!/usr/bin/env bash
# Runs every test: data validation, then the whole pytest suite (unit, database on SQLite and
# PostgreSQL, NLU and dialogue quality, end-to-end over real HTTP, browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=3 PYTHONHASHSEED=0 PYTHONPATH="$PWD" RASA_TELEMETRY_ENABLED=false

if [ -x scripts/install_browser.sh ] || [ -f scripts/install_browser.sh ]; then
  bash scripts/install_browser.sh
fi
# HAProxy for the cluster shape's tests (tests/cluster).
bash scripts/install_haproxy.sh

echo "== rasa data validate --fail-on-warnings"
.venv/bin/rasa data validate --fail-on-warnings --quiet
echo "== training (skipped when nothing changed)"
./scripts/train.sh
echo "== pytest"
.venv/bin/python -m pytest "$@"
