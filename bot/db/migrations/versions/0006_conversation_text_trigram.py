"""PostgreSQL only: a trigram index on the conversation search text, so that the console's
"words in messages" search (LIKE '%...%') does not read every conversation's text. Skipped, with
a warning, where the pg_trgm extension cannot be created; SQLite scans (fast enough there).

Revision ID: 0006_conversation_text_trigram
Revises: 0005_conversation_text_table
Create Date: 2026-11-22
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0006_conversation_text_trigram"
down_revision = "0005_conversation_text_table"
branch_labels = None
depends_on = None

INDEX = "ix_clonus_conversation_text_trgm"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        logging.getLogger(__name__).warning("pg_trgm unavailable: conversation text search will scan")
        return
    op.execute(f"CREATE INDEX {INDEX} ON clonus_conversation_text USING gin (text gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
