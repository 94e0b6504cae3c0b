#!/usr/bin/env bash
# `make run-cluster`: the cluster shape on this machine, chosen by configuration alone
# (endpoints.cluster.yml; `make run` is unchanged). Under supervisord (scripts/supervisord.cluster.conf):
# HAProxy (scripts/haproxy.cluster.cfg) in front of 2 Rasa servers and 2 action servers, the staff
# console and the broker consumer (python -m console.consumer). The tracker store is PostgreSQL
# (DATABASE_URL), the lock store Redis (REDIS_*), the event broker RabbitMQ (RABBITMQ_*), all
# running already (this script starts none of them). Ctrl-C stops everything.
# Every variable is documented in .env.example; secrets come from the environment, or are generated
# once into CLONUS_DATA_DIR (0600) like `make run` does.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=3 PYTHONHASHSEED=0 PYTHONPATH="$PWD"
export RASA_TELEMETRY_ENABLED=false

# Ports: RASA_PORT and ACTION_PORT are HAProxy's; the servers behind it listen on _1 and _2.
export RASA_PORT=${RASA_PORT:-5005}
export RASA_PORT_1=${RASA_PORT_1:-5006}
export RASA_PORT_2=${RASA_PORT_2:-5007}
export ACTION_PORT=${ACTION_PORT:-5055}
export ACTION_PORT_1=${ACTION_PORT_1:-5056}
export ACTION_PORT_2=${ACTION_PORT_2:-5057}
export CONSOLE_PORT=${CONSOLE_PORT:-8000}

# The shared parts (defaults: this machine's services).
export DATABASE_URL=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/clonus}
export REDIS_HOST=${REDIS_HOST:-127.0.0.1}
export REDIS_PORT=${REDIS_PORT:-6379}
export REDIS_DB=${REDIS_DB:-1}
export RABBITMQ_HOST=${RABBITMQ_HOST:-127.0.0.1}
export RABBITMQ_PORT=${RABBITMQ_PORT:-5672}
# One vhost per clinic in production (docs/SCALING.md); `/` is RabbitMQ's default.
export RABBITMQ_VHOST=${RABBITMQ_VHOST:-/}
export CLONUS_EVENT_QUEUE=${CLONUS_EVENT_QUEUE:-clonus_console_events}
# HAProxy adds X-Forwarded-For: the channels' per-address limits read the client from it.
export SANIC_PROXIES_COUNT=${SANIC_PROXIES_COUNT:-1}
export CLONUS_MODEL=${CLONUS_MODEL:-models}

export CLONUS_DATA_DIR=${CLONUS_DATA_DIR:-$PWD/var/cluster}
mkdir -p "$CLONUS_DATA_DIR/log"
chmod 700 "$CLONUS_DATA_DIR" "$CLONUS_DATA_DIR/log"

source scripts/secrets.sh
secret RASA_AUTH_TOKEN rasa_auth_token
secret ACTION_SERVER_SECRET action_server_secret
# Both Rasa servers must sign and check widget ids with one key, and the console's cookies too.
secret CLONUS_WIDGET_SECRET widget_secret
secret CONSOLE_SECRET_KEY console_secret_key
# The key that names senders and addresses in the shared rate limits' Redis keys: one for all servers.
secret CLONUS_RATELIMIT_KEY ratelimit_key
if [ -z "${RABBITMQ_USERNAME:-}" ] && [ -z "${RABBITMQ_PASSWORD:-}" ]; then
  case "$RABBITMQ_HOST" in
    127.*|localhost|::1)
      # RabbitMQ's own default account, which it accepts from this machine only.
      export RABBITMQ_USERNAME=guest RABBITMQ_PASSWORD=guest
      echo "RABBITMQ_USERNAME/RABBITMQ_PASSWORD not set: using RabbitMQ's local guest account";;
    *) echo "error: set RABBITMQ_USERNAME and RABBITMQ_PASSWORD for $RABBITMQ_HOST" >&2; exit 1;;
  esac
fi

# Rasa 3.6's pika broker takes the vhost only from an amqp:// URL (endpoints.cluster.yml), into
# which it inserts the username and password unencoded: refuse what would change that URL's meaning.
case "$RABBITMQ_HOST" in
  *[!A-Za-z0-9.-]*|"") echo "error: RABBITMQ_HOST must be a host name or IPv4 address (no scheme, port or path)" >&2; exit 1;;
esac
case "$RABBITMQ_VHOST" in
  *[!A-Za-z0-9._~/-]*|"") echo "error: RABBITMQ_VHOST may hold only letters, digits and . _ ~ / -" >&2; exit 1;;
esac
for _v in RABBITMQ_USERNAME RABBITMQ_PASSWORD; do
  case "${!_v}" in
    *[!A-Za-z0-9._~-]*|"") echo "error: $_v may hold only letters, digits and . _ ~ - (Rasa's pika broker puts it into an amqp:// URL unencoded)" >&2; exit 1;;
  esac
done

case "$DATABASE_URL" in
  postgresql*) ;;
  *) echo "error: the cluster shape keeps conversations in PostgreSQL: DATABASE_URL=postgresql://..." >&2; exit 1;;
esac
echo "preparing the database ($(.venv/bin/python -c 'from bot.settings import database_url; from sqlalchemy.engine import make_url; print(make_url(database_url()).render_as_string(hide_password=True))'))"
# The database itself is made when missing (the server must exist and let this user create it).
.venv/bin/python - <<'PY'
import sqlalchemy as sa
from bot.settings import database_url
url = sa.engine.make_url(database_url())
try:
    sa.create_engine(url).connect().close()
except sa.exc.OperationalError as exc:
    if "does not exist" not in str(exc):
        raise SystemExit(f"error: PostgreSQL is not reachable ({type(exc).__name__})")
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    print(f"created database {url.database}")
PY
.venv/bin/python -c 'from bot.db import migrate; migrate()'

# Redis (the lock store: without it every turn fails) and RabbitMQ (the Rasa servers exit on a refused
# login, after loading the model) are checked before anything starts, with the settings given.
.venv/bin/python - <<'PY'
import asyncio, os, sys
import redis
try:
    redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]), db=int(os.environ["REDIS_DB"]),
                password=os.environ.get("REDIS_PASSWORD") or None, socket_connect_timeout=3, socket_timeout=3).ping()
except Exception as exc:
    sys.exit(f"error: Redis at {os.environ['REDIS_HOST']}:{os.environ['REDIS_PORT']} (REDIS_HOST, REDIS_PORT, REDIS_PASSWORD) "
             f"did not answer ({type(exc).__name__}); the lock store needs it")
import aio_pika
async def check():
    connection = await asyncio.wait_for(aio_pika.connect(
        host=os.environ["RABBITMQ_HOST"], port=int(os.environ["RABBITMQ_PORT"]), login=os.environ["RABBITMQ_USERNAME"],
        password=os.environ["RABBITMQ_PASSWORD"], virtualhost=os.environ["RABBITMQ_VHOST"]), 10)
    await connection.close()
try:
    asyncio.run(check())
except Exception as exc:
    sys.exit(f"error: RabbitMQ at {os.environ['RABBITMQ_HOST']}:{os.environ['RABBITMQ_PORT']} vhost {os.environ['RABBITMQ_VHOST']} "
             f"refused RABBITMQ_USERNAME/RABBITMQ_PASSWORD or did not answer ({type(exc).__name__})")
PY

# This deployment's own event exchange (never Rasa's shared `rasa-exchange`: every deployment on
# the broker would read every other's conversations): CLONUS_EVENT_EXCHANGE, or one derived from
# the database (bot/event_exchange.py). Assigned before the export: `export X=$(...)` hides a failure.
CLONUS_EVENT_EXCHANGE=$(.venv/bin/python -m bot.event_exchange)
export CLONUS_EVENT_EXCHANGE

if [ "${CLONUS_CLUSTER_TRAIN:-1}" = 1 ]; then
  ./scripts/train.sh
fi

bash scripts/install_haproxy.sh
export HAPROXY=${HAPROXY:-$(command -v haproxy)}
# What HAProxy answers by itself when no Rasa server does (the channels' shapes, the clinic's numbers).
.venv/bin/python -m rasa_ext.lb_errors "$CLONUS_DATA_DIR/lb-errors"
"$HAPROXY" -c -q -f scripts/haproxy.cluster.cfg

export RASA_CORS_ARGS=""
[ -n "${CORS_ORIGINS:-}" ] && RASA_CORS_ARGS="--cors ${CORS_ORIGINS}"

cat <<MSG

Starting the cluster under supervisord (Ctrl-C stops everything; logs in $CLONUS_DATA_DIR/log/):
  load balancer (HAProxy): http://127.0.0.1:${RASA_PORT} -> Rasa servers :${RASA_PORT_1} :${RASA_PORT_2}
                           http://127.0.0.1:${ACTION_PORT} -> action servers :${ACTION_PORT_1} :${ACTION_PORT_2}
  website widget demo:     http://127.0.0.1:${RASA_PORT}/webhooks/widget/demo
  SMS webhook:             http://127.0.0.1:${RASA_PORT}/webhooks/twilio_sms/webhook
  staff console:           http://127.0.0.1:${CONSOLE_PORT}/
  lock store: Redis ${REDIS_HOST}:${REDIS_PORT}/${REDIS_DB}; events: RabbitMQ ${RABBITMQ_HOST}:${RABBITMQ_PORT} vhost ${RABBITMQ_VHOST}, exchange ${CLONUS_EVENT_EXCHANGE}, queue ${CLONUS_EVENT_QUEUE}
  process status:          CLONUS_DATA_DIR=$CLONUS_DATA_DIR .venv/bin/supervisorctl -c scripts/supervisord.cluster.conf status
MSG
exec .venv/bin/supervisord -c scripts/supervisord.cluster.conf
