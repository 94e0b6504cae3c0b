"""Server-side staff sessions (sign-out and disabling a user end them at once) and an opaque
reference per conversation, so that console URLs and logs never carry a conversation id (which is
the phone number on SMS channels).

Revision ID: 0004_staff_sessions_conv_ref
Revises: 0003_conversation_summary
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_staff_sessions_conv_ref"
down_revision = "0003_conversation_summary"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "clonus_staff_session",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["clonus_staff_user.id"],
            name=op.f("fk_clonus_staff_session_user_id_clonus_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_clonus_staff_session")),
    )
    op.create_index("ix_clonus_staff_session_user_id", "clonus_staff_session", ["user_id"])
    op.add_column("clonus_conversation", sa.Column("ref", sa.String(32), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE clonus_conversation SET ref = substr(md5(random()::text), 1, 20)")
    else:
        op.execute("UPDATE clonus_conversation SET ref = lower(hex(randomblob(10)))")
    op.create_index("ix_clonus_conversation_ref", "clonus_conversation", ["ref"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_clonus_conversation_ref", table_name="clonus_conversation")
    with op.batch_alter_table("clonus_conversation") as batch:
        batch.drop_column("ref")
    op.drop_table("clonus_staff_session")
