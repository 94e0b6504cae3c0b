"""The turn an action server's write belongs to (issue 8: a refused turn's rows).

The action server writes an appointment request or a triage row while its turn runs; the Rasa
server stores the turn afterwards and may refuse to (the database failed at the save: 503,
"please send it again"). A person who never sends it again leaves a row for a turn that is not in
the transcript. Both tables get a nullable `turn_timestamp`: the timestamp of the user message of
the turn that wrote (or, resent, found) the row. The console shows a row only when that message
is stored in Rasa's `events` (`bot.db.in_transcript`); NULL (rows written outside a turn: console
seeds, older rows) is always shown. Nothing is deleted.

Revision ID: 0011_turn_timestamp
Revises: 0010_console_alerts
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_turn_timestamp"
down_revision = "0010_console_alerts"
branch_labels = None
depends_on = None

TABLES = ("clonus_appointment_request", "clonus_triage_assessment")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("turn_timestamp", sa.Float(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("turn_timestamp")
