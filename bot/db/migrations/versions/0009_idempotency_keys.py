"""Idempotency keys of the action server's writes (issue 8, outside test of the last change).

A turn whose save the Rasa server refused (database locked mid-turn: the channel answers 503
"please send it again") has already run its actions. The resent turn must not create a second
appointment request nor a second triage row: both tables get a nullable `idempotency_key`
(SHA-256 hex of the conversation, the stored turn it follows and, for a booking, its content)
with a unique constraint. NULL (rows written without a key: console seeds, older rows) never
collides.

Revision ID: 0009_idempotency_keys
Revises: 0008_console_security
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_idempotency_keys"
down_revision = "0008_console_security"
branch_labels = None
depends_on = None

TABLES = ("clonus_appointment_request", "clonus_triage_assessment")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("idempotency_key", sa.String(64), nullable=True))
            batch.create_unique_constraint(op.f(f"uq_{table}_idempotency_key"), ["idempotency_key"])


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"uq_{table}_idempotency_key"), type_="unique")
            batch.drop_column("idempotency_key")
