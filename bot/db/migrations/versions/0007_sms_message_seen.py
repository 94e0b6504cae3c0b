"""Twilio MessageSids already processed, so that a retried webhook is not handled twice, across
restarts and across servers.

Revision ID: 0007_sms_message_seen
Revises: 0006_conversation_text_trigram
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_sms_message_seen"
down_revision = "0006_conversation_text_trigram"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clonus_sms_message_seen",
        sa.Column("message_sid", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_sid", name=op.f("pk_clonus_sms_message_seen")),
    )
    op.create_index(op.f("ix_clonus_sms_message_seen_received_at"), "clonus_sms_message_seen", ["received_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_clonus_sms_message_seen_received_at"), table_name="clonus_sms_message_seen")
    op.drop_table("clonus_sms_message_seen")
