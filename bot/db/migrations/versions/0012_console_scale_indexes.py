"""Indexes for the console at 100,000 conversations (issue 11), on SQLite and PostgreSQL.

- `ix_clonus_conversation_level_last_id` (level_rank, last_at, conversation_id) replaces
  (level_rank, last_at): the list's first part (unreviewed emergencies, then urgent, newest first,
  ties by id) walks it in order and stops after a page, and the dashboard counts unreviewed
  urgent and emergency conversations from it alone (the id is there for the review look-up).
- `ix_clonus_conversation_first_level` (first_at, triage_level): the dashboard's conversations
  per day and level are counted from the index over the 14 days shown, instead of every row.

Revision ID: 0012_console_scale_indexes
Revises: 0011_turn_timestamp
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0012_console_scale_indexes"
down_revision = "0011_turn_timestamp"
branch_labels = None
depends_on = None

TABLE = "clonus_conversation"


def upgrade() -> None:
    op.create_index("ix_clonus_conversation_level_last_id", TABLE, ["level_rank", "last_at", "conversation_id"])
    op.drop_index("ix_clonus_conversation_level_last", table_name=TABLE)
    op.create_index("ix_clonus_conversation_first_level", TABLE, ["first_at", "triage_level"])


def downgrade() -> None:
    op.drop_index("ix_clonus_conversation_first_level", table_name=TABLE)
    op.create_index("ix_clonus_conversation_level_last", TABLE, ["level_rank", "last_at"])
    op.drop_index("ix_clonus_conversation_level_last_id", table_name=TABLE)
