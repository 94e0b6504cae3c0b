"""Conversation summary (one row per conversation, derived from Rasa's events) and sync state,
so that the console filters 10,000 conversations without aggregating every event per request.

Revision ID: 0003_conversation_summary
Revises: 0002_audit_log_append_only
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_conversation_summary"
down_revision = "0002_audit_log_append_only"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "clonus_conversation",
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("first_at", TZ, nullable=True),
        sa.Column("last_at", TZ, nullable=True),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("triage_level", sa.String(16), nullable=True),
        sa.Column("level_rank", sa.Integer, nullable=False, server_default="-1"),
        sa.Column("rule_ids", sa.Text, nullable=False, server_default=""),
        sa.Column("message_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("search_text", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_clonus_conversation")),
    )
    op.create_index("ix_clonus_conversation_last_at", "clonus_conversation", ["last_at"])
    op.create_index("ix_clonus_conversation_channel", "clonus_conversation", ["channel"])
    op.create_index(
        "ix_clonus_conversation_level_last",
        "clonus_conversation",
        ["level_rank", "last_at"],
    )
    op.create_table(
        "clonus_sync_state",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_clonus_sync_state")),
    )


def downgrade() -> None:
    op.drop_table("clonus_sync_state")
    op.drop_table("clonus_conversation")
