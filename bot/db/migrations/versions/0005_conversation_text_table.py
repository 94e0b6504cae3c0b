"""Move the conversation search text out of clonus_conversation into clonus_conversation_text, so
that sorting and filtering the summary rows never reads kilobytes of text per conversation.

Revision ID: 0005_conversation_text_table
Revises: 0004_staff_sessions_conv_ref
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_conversation_text_table"
down_revision = "0004_staff_sessions_conv_ref"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clonus_conversation_text",
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_clonus_conversation_text")),
    )
    op.execute(
        "INSERT INTO clonus_conversation_text (conversation_id, text) "
        "SELECT conversation_id, search_text FROM clonus_conversation"
    )
    with op.batch_alter_table("clonus_conversation") as batch:
        batch.drop_column("search_text")


def downgrade() -> None:
    with op.batch_alter_table("clonus_conversation") as batch:
        batch.add_column(sa.Column("search_text", sa.Text, nullable=False, server_default=""))
    op.execute(
        "UPDATE clonus_conversation SET search_text = COALESCE((SELECT t.text FROM clonus_conversation_text t "
        "WHERE t.conversation_id = clonus_conversation.conversation_id), '')"
    )
    op.drop_table("clonus_conversation_text")
