"""The console's text search at 100,000 conversations (issue 11): the search text knows its
conversation's level, and PostgreSQL has a trigram index per level the list puts first.

- `clonus_conversation_text.level_rank` (the summary's `level_rank`, written with it by the
  consumer; filled here from `clonus_conversation`).
- PostgreSQL only (pg_trgm, as 0006): `ix_clonus_conversation_text_emergency_trgm` and
  `ix_clonus_conversation_text_urgent_trgm`, trigram indexes of the expressions
  `CASE WHEN level_rank = 3 THEN text END` and `... = 2 ...` (emergency and urgent:
  bot.db.models.LEVEL_RANK). The list's first part (unreviewed emergencies, then unreviewed urgent
  cases) finds the conversations of its level that hold the search text from these alone, instead of
  walking every conversation of that level and reading its text. Expressions, not a partial index
  or a (level_rank, text) index: ANALYZE keeps statistics of an index expression, so the planner
  estimates "this word among the emergencies" from the emergencies' own texts (a word common
  elsewhere but rare there, or the reverse, is estimated right and read through the index, not by
  a scan expected to stop early). SQLite has no trigram index and scans, as before.

Revision ID: 0015_console_search_levels
Revises: 0014_decision_records
Create Date: 2026-12-04
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0015_console_search_levels"
down_revision = "0014_decision_records"
branch_labels = None
depends_on = None

TABLE = "clonus_conversation_text"
#: index name -> level_rank (console.conversations.LEVEL_TEXT_INDEXES builds the same expressions)
INDEXES = {"ix_clonus_conversation_text_emergency_trgm": 3, "ix_clonus_conversation_text_urgent_trgm": 2}


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("level_rank", sa.Integer, nullable=False, server_default="-1"))
    # only the rows whose level is not the default (-1): a quarter of the text rows are left as they are
    op.execute(
        "UPDATE clonus_conversation_text SET level_rank = (SELECT c.level_rank FROM clonus_conversation c"
        " WHERE c.conversation_id = clonus_conversation_text.conversation_id)"
        " WHERE conversation_id IN (SELECT conversation_id FROM clonus_conversation WHERE level_rank <> -1)"
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        logging.getLogger(__name__).warning("pg_trgm unavailable: the search by level will scan")
        return
    for name, rank in INDEXES.items():
        op.execute(
            f"CREATE INDEX {name} ON {TABLE} USING gin ((CASE WHEN level_rank = {rank} THEN text END) gin_trgm_ops)"
        )
    op.execute(f"ANALYZE {TABLE}")  # the expressions' statistics, before the first search


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("level_rank")
