"""The RabbitMQ exchange of this deployment's events (the cluster shape): one per deployment.

Rasa's pika broker publishes every event to a fanout exchange, and every queue bound to it gets a
copy. Rasa's default name `rasa-exchange` is the same for every Rasa on a broker: two clinics on
one RabbitMQ (vhost) would each receive the other's conversations (health information) and
emergency alerts. So the name is this deployment's own, and `rasa-exchange` is refused:

- CLONUS_EVENT_EXCHANGE when set (production: set it, with a vhost and an account per clinic,
  docs/SCALING.md);
- otherwise `clonus-events-<20 hex>`, a hash of the database's identity: its URL without the
  password (dialect, user, host, port, database) and a random id the database keeps (row
  `deployment_id` of `clonus_sync_state`, made on first use). Two deployments never share the
  default, even with identical DATABASE_URLs on two machines (each database has its own random id),
  or one database restored from another's backup (the URL differs); the Rasa servers and the
  consumer of one deployment (one database) agree on it.

`python -m bot.event_exchange` prints the name (scripts/run_cluster.sh exports it for
endpoints.cluster.yml), or explains the refusal and exits with status 2.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import sys

import sqlalchemy as sa

from bot.settings import ConfigError, database_url

ENV = "CLONUS_EVENT_EXCHANGE"
SHARED_EXCHANGE = "rasa-exchange"  # rasa.core.brokers.pika.RABBITMQ_EXCHANGE: every Rasa's default
PREFIX = "clonus-events-"
DEPLOYMENT_ID = "deployment_id"  # its row in clonus_sync_state
_NAME = re.compile(r"[A-Za-z0-9._:-]{1,255}")


class ExchangeRefused(ConfigError):
    """The exchange name would share events with other deployments (or is not a valid name)."""


def check_exchange(name: str | None) -> str:
    """`name` when it is a deployment's own exchange; ExchangeRefused otherwise."""
    value = (name or "").strip()
    if value == SHARED_EXCHANGE:
        raise ExchangeRefused(
            f"{ENV}={SHARED_EXCHANGE} refused: `{SHARED_EXCHANGE}` is Rasa's default exchange, shared by every "
            "deployment on this RabbitMQ, so this console would receive other clinics' conversations and alerts "
            f"(and they this clinic's). Set {ENV} to this deployment's own name, or leave it unset for one "
            "derived from its database (python -m bot.event_exchange)."
        )
    if not _NAME.fullmatch(value):
        raise ExchangeRefused(f"{ENV} must be 1-255 letters, digits or . _ : - (got {len(value)} characters)")
    if value.startswith("amq."):
        raise ExchangeRefused(f"{ENV}: names starting with amq. are RabbitMQ's own")
    return value


def deployment_id(url: str | None = None) -> int:
    """The random id this database keeps for its deployment (made on first use; the migrations
    must have run)."""
    from bot.db import session_scope
    from bot.db.models import SyncState

    with session_scope(url, write=False) as s:
        row = s.get(SyncState, DEPLOYMENT_ID)
        if row is not None:
            return int(row.value)
    with contextlib.suppress(sa.exc.IntegrityError):  # another process made it first
        with session_scope(url) as s:
            s.add(SyncState(name=DEPLOYMENT_ID, value=secrets.randbits(62) | 1))
    with session_scope(url, write=False) as s:
        return int(s.get(SyncState, DEPLOYMENT_ID).value)


def database_identity(url: str | None = None) -> str:
    """The database's URL without password or query: dialect, user, host, port, database."""
    u = sa.engine.make_url(url or database_url())
    return f"{u.get_backend_name()}://{u.username or ''}@{u.host or ''}:{u.port or ''}/{u.database or ''}"


def default_exchange(url: str | None = None) -> str:
    url = url or database_url()
    digest = hashlib.sha256(f"{database_identity(url)}\n{deployment_id(url)}".encode()).hexdigest()
    return PREFIX + digest[:20]


def event_exchange(url: str | None = None) -> str:
    """CLONUS_EVENT_EXCHANGE (checked), or this deployment's default."""
    configured = os.environ.get(ENV)
    if configured is not None and configured.strip():
        return check_exchange(configured)
    return check_exchange(default_exchange(url))


def main() -> None:
    try:
        print(event_exchange())
    except ExchangeRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
