"""Console sign-in back-off per account and client, instead of the lock-out an outsider could
trigger: the `failed_logins` / `locked_until` columns of staff users go, and
`clonus_login_backoff` counts consecutive failures per (account, client) key (console.throttle).

Revision ID: 0008_console_security
Revises: 0007_sms_message_seen
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_console_security"
down_revision = "0007_sms_message_seen"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "clonus_login_backoff",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("username", sa.String(150), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_allowed_at", TZ, nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_clonus_login_backoff")),
    )
    op.create_index(op.f("ix_clonus_login_backoff_username"), "clonus_login_backoff", ["username"])
    op.create_index(op.f("ix_clonus_login_backoff_updated_at"), "clonus_login_backoff", ["updated_at"])
    # SQLite >= 3.35 drops a column in place (no table copy); neither column is indexed.
    op.drop_column("clonus_staff_user", "locked_until")
    op.drop_column("clonus_staff_user", "failed_logins")


def downgrade() -> None:
    op.add_column("clonus_staff_user", sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"))
    op.add_column("clonus_staff_user", sa.Column("locked_until", TZ, nullable=True))
    op.drop_index(op.f("ix_clonus_login_backoff_updated_at"), table_name="clonus_login_backoff")
    op.drop_index(op.f("ix_clonus_login_backoff_username"), table_name="clonus_login_backoff")
    op.drop_table("clonus_login_backoff")
