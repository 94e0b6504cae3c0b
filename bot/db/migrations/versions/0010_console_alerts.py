"""Live alerts of the staff console (issue 11): `clonus_alert`, one row per new emergency or
urgent triage decision, written by the broker consumer (console.consumer), acknowledged by staff.

Revision ID: 0010_console_alerts
Revises: 0009_idempotency_keys
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

TZ = sa.DateTime(timezone=True)

revision = "0010_console_alerts"
down_revision = "0009_idempotency_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clonus_alert",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("rule_ids", sa.Text, nullable=False, server_default=""),
        sa.Column("source_key", sa.String(80), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("acknowledged_at", TZ, nullable=True),
        sa.Column("acknowledged_by", sa.String(150), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clonus_alert")),
        sa.UniqueConstraint("conversation_id", "source_key", name="uq_clonus_alert_conversation_source"),
        sa.CheckConstraint("level IN ('urgent', 'emergency')", name=op.f("ck_clonus_alert_level")),
    )
    op.create_index("ix_clonus_alert_open", "clonus_alert", ["acknowledged_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_clonus_alert_open", table_name="clonus_alert")
    op.drop_table("clonus_alert")
