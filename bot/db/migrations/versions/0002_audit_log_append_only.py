"""Audit log is append-only: database triggers refuse UPDATE and DELETE on clonus_audit_log.

Revision ID: 0002_audit_log_append_only
Revises: 0001_initial_schema
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0002_audit_log_append_only"
down_revision = "0001_initial_schema"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION clonus_audit_log_refuse_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'clonus_audit_log is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER clonus_audit_log_append_only BEFORE UPDATE OR DELETE "
            "ON clonus_audit_log FOR EACH ROW EXECUTE FUNCTION clonus_audit_log_refuse_change()"
        )
    else:
        for what in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER clonus_audit_log_no_{what.lower()} BEFORE {what} "
                "ON clonus_audit_log BEGIN SELECT RAISE(ABORT, 'clonus_audit_log is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER clonus_audit_log_append_only ON clonus_audit_log")
        op.execute("DROP FUNCTION clonus_audit_log_refuse_change()")
    else:
        op.execute("DROP TRIGGER clonus_audit_log_no_update")
        op.execute("DROP TRIGGER clonus_audit_log_no_delete")
