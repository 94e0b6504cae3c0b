"""Rasa 3.6's SQL tracker-store table `events`, described for reading (Rasa creates and owns it).

The definition mirrors `rasa.core.tracker_store.SQLTrackerStore.SQLEvent` column for column, on its
own MetaData so that Alembic never sees it. `create_events_table` exists for tests and benchmarks
that need the table without starting Rasa.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

TRACKER_TABLES = frozenset({"events"})

tracker_metadata = sa.MetaData()

events = sa.Table(
    "events",
    tracker_metadata,
    sa.Column("id", sa.Integer, sa.Sequence("events_seq", optional=True), primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


# Indexes a migration makes on one dialect only (not in the models): autogenerate leaves them be.
DIALECT_ONLY_INDEXES = frozenset(
    {
        "ix_clonus_conversation_text_trgm",
        "ix_clonus_conversation_text_emergency_trgm",
        "ix_clonus_conversation_text_urgent_trgm",
    }
)


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    """Alembic filter: autogenerate sees only the assistant's `clonus_` tables, never Rasa's."""
    if type_ == "index" and name in DIALECT_ONLY_INDEXES:
        return False
    if type_ == "table":
        return name not in TRACKER_TABLES and name.startswith("clonus_")
    table = getattr(obj, "table", None)
    return table is None or table.name not in TRACKER_TABLES


def create_events_table(bind: Engine | Connection) -> None:
    """Create `events` as Rasa's SQLTrackerStore would (tests and benchmarks only)."""
    tracker_metadata.create_all(bind, checkfirst=True)
