#!/usr/bin/env bash
# Starts the assistant on localhost: migrations, training when needed, then the action server,
# the Rasa server (widget and SMS channels, the HTTP API) and the staff console.
# Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=3 PYTHONHASHSEED=0 PYTHONPATH="$PWD"

RASA_PORT=${RASA_PORT:-5005}
ACTION_PORT=${ACTION_PORT:-5055}
CONSOLE_PORT=${CONSOLE_PORT:-8000}
mkdir -p var
chmod 700 var

if [ -z "${RASA_AUTH_TOKEN:-}" ]; then
  # The HTTP API is never open without a token; without one in the environment, make one for
  # this run and keep it readable only by this user.
  RASA_AUTH_TOKEN=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
  (umask 077; echo "$RASA_AUTH_TOKEN" > var/rasa_auth_token)
  echo "RASA_AUTH_TOKEN not set: generated one for this run in var/rasa_auth_token"
fi

echo "preparing the database ($(.venv/bin/python -c 'from bot.settings import database_url; from sqlalchemy.engine import make_url; print(make_url(database_url()).render_as_string(hide_password=True))'))"
.venv/bin/python -c 'from bot.db import migrate; migrate()'

./scripts/train.sh

sed "s#http://localhost:5055/webhook#http://127.0.0.1:${ACTION_PORT}/webhook#" endpoints.yml > var/endpoints.runtime.yml

pids=()
cleanup() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 30); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return
    sleep 0.5
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
}
trap cleanup INT TERM EXIT

# The action server listens on loopback only (rasa_sdk reads SANIC_HOST).
SANIC_HOST=127.0.0.1 .venv/bin/rasa run actions --actions actions --port "$ACTION_PORT" &
pids+=($!)
# The demo page is same-origin; other sites that embed the widget are listed in CORS_ORIGINS.
cors=()
[ -n "${CORS_ORIGINS:-}" ] && cors=(--cors "$CORS_ORIGINS")
.venv/bin/rasa run --model models --endpoints var/endpoints.runtime.yml --credentials credentials.yml \
  --enable-api --auth-token "$RASA_AUTH_TOKEN" "${cors[@]}" \
  --interface 127.0.0.1 --port "$RASA_PORT" &
pids+=($!)
if [ -f console/__main__.py ]; then
  CONSOLE_PORT=$CONSOLE_PORT .venv/bin/python -m console &
  pids+=($!)
fi

for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:${RASA_PORT}/" >/dev/null 2>&1 && break
  sleep 1
done
cat <<MSG

The assistant is running (Ctrl-C stops everything):
  dev channel (tests): on only with CLONUS_DEV_CHANNEL_TOKEN set (README, "Channels")
  website widget demo: http://127.0.0.1:${RASA_PORT}/webhooks/widget/demo
  SMS webhook:         http://127.0.0.1:${RASA_PORT}/webhooks/twilio_sms/webhook
  staff console:       http://127.0.0.1:${CONSOLE_PORT}/
MSG
wait -n "${pids[@]}"
