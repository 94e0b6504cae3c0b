#!/usr/bin/env bash
# Trains the Rasa model into models/ only when data, domain or config changed: Rasa compares the
# fingerprint of the newest model with the project and skips training when they match.
set -euo pipefail
cd "$(dirname "$0")/.."
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=3 PYTHONHASHSEED=0
.venv/bin/rasa train --config config.yml --domain domain.yml --data data --out models --quiet "$@"
