#!/usr/bin/env bash
# Starts the assistant on localhost: migrations, training when needed, then the action server, the
# Rasa server (the widget and SMS channels of credentials.yml, the HTTP API), the staff console and its
# consumer (summaries, search text, live alerts; catch-up from the tracker store, no broker) under
# supervisord (scripts/supervisord.conf): a process that dies is restarted, with a log line, and
# the others keep running. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=3 PYTHONHASHSEED=0 PYTHONPATH="$PWD"
export RASA_TELEMETRY_ENABLED=false

export RASA_PORT=${RASA_PORT:-5005}
export ACTION_PORT=${ACTION_PORT:-5055}
export CONSOLE_PORT=${CONSOLE_PORT:-8000}
# Secrets, logs and the default SQLite database live in CLONUS_DATA_DIR (var/ by default).
export CLONUS_DATA_DIR=${CLONUS_DATA_DIR:-$PWD/var}
mkdir -p "$CLONUS_DATA_DIR/log"
chmod 700 "$CLONUS_DATA_DIR" "$CLONUS_DATA_DIR/log"

source scripts/secrets.sh
secret RASA_AUTH_TOKEN rasa_auth_token
secret ACTION_SERVER_SECRET action_server_secret

echo "preparing the database ($(.venv/bin/python -c 'from bot.settings import database_url; from sqlalchemy.engine import make_url; print(make_url(database_url()).render_as_string(hide_password=True))'))"
.venv/bin/python -c 'from bot.db import migrate; migrate()'
# An SQLite database made by an earlier version may be 0644: readable by its owner only.
.venv/bin/python -c 'from bot.settings import database_url; from rasa_ext.tracker_store import restrict_sqlite_file; restrict_sqlite_file(database_url())'

./scripts/train.sh

# The demo page is same-origin; other sites that embed the widget are listed in CORS_ORIGINS.
export RASA_CORS_ARGS=""
# The single-machine shape has no event broker: console.consumer catches up from the tracker store.
export RABBITMQ_HOST=""
[ -n "${CORS_ORIGINS:-}" ] && RASA_CORS_ARGS="--cors ${CORS_ORIGINS}"

cat <<MSG

Starting the assistant under supervisord (Ctrl-C stops everything; logs in $CLONUS_DATA_DIR/log/):
  website widget demo: http://127.0.0.1:${RASA_PORT}/webhooks/widget/demo
  SMS webhook:         http://127.0.0.1:${RASA_PORT}/webhooks/twilio_sms/webhook
  dev channel (tests): on only with CLONUS_DEV_CHANNEL_TOKEN set (README, "Channels")
  staff console:       http://127.0.0.1:${CONSOLE_PORT}/
  process status:      CLONUS_DATA_DIR=$CLONUS_DATA_DIR .venv/bin/supervisorctl -c scripts/supervisord.conf status
MSG
exec .venv/bin/supervisord -c scripts/supervisord.conf
