"""Triage rows become the projection of the decision records (issue 10: one record per decision).

A triage decision is now stored as one event on the conversation's tracker, the slot
`triage_decision` (bot.decision), which the console reads. `clonus_triage_assessment` keeps one
row per record, written from the same record: `decision_id` (the record's id, unique: the action
server writes the row of its own records, the console consumer the rows of records that have none,
the Rasa server's fail-safe ones included) and `source` (`action` or `failsafe`). Rows with a
`decision_id` are never shown by the console (their record is); older rows (NULL) are shown as
before. No row is changed or deleted.

Revision ID: 0014_decision_records
Revises: 0013_sms_more_pages
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_decision_records"
down_revision = "0013_sms_more_pages"
branch_labels = None
depends_on = None

TABLE = "clonus_triage_assessment"


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("decision_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("source", sa.String(16), nullable=True))
        batch.create_unique_constraint(op.f("uq_clonus_triage_assessment_decision_id"), ["decision_id"])


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(op.f("uq_clonus_triage_assessment_decision_id"), type_="unique")
        batch.drop_column("source")
        batch.drop_column("decision_id")
