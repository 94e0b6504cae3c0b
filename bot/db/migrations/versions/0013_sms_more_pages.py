"""The pages of long SMS replies waiting for MORE, in the database instead of one server's memory:
MORE reaching another server of the cluster, or arriving after a restart, gets the next page, once.
Each page expires (rasa_ext.channels.twilio_sms.MORE_KEEP).

Revision ID: 0013_sms_more_pages
Revises: 0012_console_scale_indexes
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_sms_more_pages"
down_revision = "0012_console_scale_indexes"
branch_labels = None
depends_on = None

TABLE = "clonus_sms_more_page"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "seq", name=op.f("pk_clonus_sms_more_page")),
    )
    op.create_index(op.f("ix_clonus_sms_more_page_expires_at"), TABLE, ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_clonus_sms_more_page_expires_at"), table_name=TABLE)
    op.drop_table(TABLE)
