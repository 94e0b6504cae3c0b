"""Schema built by the migrations, on SQLite and PostgreSQL: head revision, no drift from the
models, Rasa's `events` left alone, concurrent start-up, constraints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot import db
from bot.db.models import AuditLog, Base, StaffUser
from bot.db.tracker import include_object

ROOT = Path(__file__).resolve().parents[2]


def _head() -> str:
    return ScriptDirectory.from_config(db.alembic_config()).get_current_head()


def test_schema_is_at_head(db_url: str) -> None:
    assert db.current_revision(db_url) == _head()


def test_migration_files_have_readable_names() -> None:
    for rev in ScriptDirectory.from_config(db.alembic_config()).walk_revisions():
        assert rev.revision[:4].isdigit() and "_" in rev.revision, rev.revision
        assert Path(rev.path).stem == rev.revision
        assert len(rev.revision) <= 32  # alembic_version.version_num is VARCHAR(32)


def test_models_match_migrations(db_url: str) -> None:
    with db.get_engine(db_url).connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_autogenerate_never_touches_rasa_events(db_url: str) -> None:
    # The session database has Rasa's table; without include_object autogenerate would drop it.
    with db.get_engine(db_url).connect() as conn:
        assert sa.inspect(conn).has_table("events")
        plain = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert any(d[0] == "remove_table" and d[1].name == "events" for d in plain)
    events_table = sa.Table("events", sa.MetaData())
    assert include_object(events_table, "events", "table", True, None) is False


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrate_is_idempotent_and_downgrade_keeps_events(fresh_db_url, backend: str) -> None:
    url = fresh_db_url(backend)
    db.migrate(url)
    db.migrate(url)
    assert db.current_revision(url) == _head()
    with db.get_engine(url).begin() as conn:
        conn.execute(
            sa.text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES ('c', 'user', 1, '{}')")
        )
    cfg = db.alembic_config(url)
    with db.get_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    with db.get_engine(url).connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        assert "events" in names and not any(n.startswith("clonus_") for n in names)
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one() == 1
    db.migrate(url)
    assert db.current_revision(url) == _head()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_migrating_at_once(fresh_db_url, backend: str) -> None:
    url = fresh_db_url(backend, migrate=False, with_events=False)
    code = "import sys, bot.db; bot.db.migrate(sys.argv[1])"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, url],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    assert db.current_revision(url) == _head()
    with db.get_engine(url).connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_sqlite_engine_settings(fresh_db_url) -> None:
    url = fresh_db_url("sqlite")
    engine = db.get_engine(url)
    assert db.get_engine(url) is engine
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_postgresql_engine_pings(fresh_db_url) -> None:
    engine = db.get_engine(fresh_db_url("postgresql", migrate=False, with_events=False))
    assert engine.pool._pre_ping is True
    assert engine.dialect.name == "postgresql"


def test_usernames_are_unique(db_session) -> None:
    db_session.add(StaffUser(username="casey", password_hash="x", role="staff"))
    db_session.flush()
    db_session.add(StaffUser(username="casey", password_hash="y", role="admin"))
    with pytest.raises(sa.exc.IntegrityError):
        db_session.flush()


def test_role_is_checked(db_session) -> None:
    db_session.add(StaffUser(username="robin", password_hash="x", role="root"))
    with pytest.raises(sa.exc.IntegrityError):
        db_session.flush()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE clonus_audit_log SET actor = 'x'", "DELETE FROM clonus_audit_log"],
)
def test_audit_log_is_append_only(db_session, statement: str) -> None:
    db_session.add(AuditLog(actor="casey", action="sign_in", target=None, detail={}))
    db_session.flush()
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db_session.execute(sa.text(statement))


def test_postgresql_text_search_can_use_the_trigram_index(db_url: str, db_connection, db_backend: str) -> None:
    if db_backend != "postgresql":
        assert "ix_clonus_conversation_text_trgm" not in {
            ix["name"] for ix in sa.inspect(db_connection).get_indexes("clonus_conversation_text")
        }
        return
    db_connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = "\n".join(
        r[0]
        for r in db_connection.execute(
            sa.text("EXPLAIN SELECT conversation_id FROM clonus_conversation_text WHERE text LIKE :q"),
            {"q": "%zoloft%"},
        )
    )
    assert "ix_clonus_conversation_text_trgm" in plan


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_search_levels_migration_fills_the_level_of_existing_texts(fresh_db_url, backend: str) -> None:
    """0015 copies each summary's level onto its search text (rows written before it had -1)."""
    url = fresh_db_url(backend, migrate=False)
    db.migrate(url, "0014_decision_records")
    with db.get_engine(url).begin() as conn:
        for cid, rank in (("a", 3), ("b", 2), ("c", -1), ("d", 0)):
            conn.execute(
                sa.text("INSERT INTO clonus_conversation (conversation_id, ref, level_rank) VALUES (:c, :c, :r)"),
                {"c": cid, "r": rank},
            )
            conn.execute(
                sa.text("INSERT INTO clonus_conversation_text (conversation_id, text) VALUES (:c, 'x')"), {"c": cid}
            )
        conn.execute(sa.text("INSERT INTO clonus_conversation_text (conversation_id, text) VALUES ('orphan', 'x')"))
    db.migrate(url)
    with db.get_engine(url).connect() as conn:
        got = dict(conn.execute(sa.text("SELECT conversation_id, level_rank FROM clonus_conversation_text")).all())
    assert got == {"a": 3, "b": 2, "c": -1, "d": 0, "orphan": -1}


def test_postgresql_sessions_plan_no_parallel_workers(fresh_db_url) -> None:
    """bot.db's PostgreSQL connections run without parallel plans (bot.db.POSTGRESQL_SESSION_SETTINGS)."""
    engine = db.get_engine(fresh_db_url("postgresql", migrate=False, with_events=False))
    for _ in range(2):  # a new connection, then one from the pool after a transaction
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar() == "0"
            conn.exec_driver_sql("SELECT 1")
            conn.commit()
