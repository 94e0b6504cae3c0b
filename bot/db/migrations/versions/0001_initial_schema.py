"""Initial schema: appointment requests, triage assessments, staff users, reviews, notes, audit log,
SMS opt-outs.

Revision ID: 0001_initial_schema
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial_schema"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "clonus_appointment_request",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("patient_name", sa.String(200), nullable=False),
        sa.Column("phone_e164", sa.String(20), nullable=False),
        sa.Column("preferred_time", TZ, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("triage_level", sa.String(16), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="new"),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.CheckConstraint(
            "status IN ('new', 'contacted', 'booked', 'cancelled')",
            name=op.f("ck_clonus_appointment_request_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clonus_appointment_request")),
    )
    op.create_index(
        "ix_clonus_appointment_request_conversation_id",
        "clonus_appointment_request",
        ["conversation_id"],
    )
    op.create_index(
        "ix_clonus_appointment_request_status_created",
        "clonus_appointment_request",
        ["status", "created_at"],
    )

    op.create_table(
        "clonus_triage_assessment",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("rule_ids", sa.JSON, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("medications", sa.JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clonus_triage_assessment")),
    )
    op.create_index(
        "ix_clonus_triage_assessment_conv_created",
        "clonus_triage_assessment",
        ["conversation_id", "created_at"],
    )
    op.create_index(
        "ix_clonus_triage_assessment_created_at",
        "clonus_triage_assessment",
        ["created_at"],
    )

    op.create_table(
        "clonus_staff_user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(150), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False, server_default="staff"),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.CheckConstraint("role IN ('staff', 'admin')", name=op.f("ck_clonus_staff_user_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clonus_staff_user")),
        sa.UniqueConstraint("username", name=op.f("uq_clonus_staff_user_username")),
    )

    op.create_table(
        "clonus_conversation_review",
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("reviewed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reviewed_by", sa.String(150), nullable=True),
        sa.Column("reviewed_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_clonus_conversation_review")),
    )

    op.create_table(
        "clonus_review_note",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("author", sa.String(150), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clonus_review_note")),
    )
    op.create_index(
        "ix_clonus_review_note_conversation_id",
        "clonus_review_note",
        ["conversation_id"],
    )

    op.create_table(
        "clonus_audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(150), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=True),
        sa.Column("detail", sa.JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clonus_audit_log")),
    )
    op.create_index("ix_clonus_audit_log_at", "clonus_audit_log", ["at"])
    op.create_index("ix_clonus_audit_log_actor", "clonus_audit_log", ["actor"])
    op.create_index("ix_clonus_audit_log_action", "clonus_audit_log", ["action"])

    op.create_table(
        "clonus_sms_opt_out",
        sa.Column("phone_e164", sa.String(20), nullable=False),
        sa.Column("opted_out", sa.Boolean, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("phone_e164", name=op.f("pk_clonus_sms_opt_out")),
    )


def downgrade() -> None:
    for table in (
        "clonus_sms_opt_out",
        "clonus_audit_log",
        "clonus_review_note",
        "clonus_conversation_review",
        "clonus_staff_user",
        "clonus_triage_assessment",
        "clonus_appointment_request",
    ):
        op.drop_table(table)
