"""Database fixtures shared by test folders: every test runs on SQLite and on PostgreSQL, with the
schema built by the migrations, inside a transaction that is rolled back.

Registered for every test folder by `pytest_plugins = ["tests.fixtures_db"]` in tests/conftest.py
(do not star-import it as well: that would make a second set of session databases).

    db_url         session-wide database URL (migrated), parametrized sqlite | postgresql
    db_connection  a connection in a transaction rolled back after the test; bot.db.session_scope(db_url)
                   works inside it (SAVEPOINTs)
    db_session     an ORM session on db_connection
    fresh_db_url   factory: an empty migrated database of the given kind that the test may commit to

PostgreSQL comes from CLONUS_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test);
each session creates and finally drops a throwaway database `clonus_test_<random>`. When PostgreSQL
cannot be reached the PostgreSQL variants fail.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot import db  # noqa: E402  (after the sys.path set-up above)
from bot.db.tracker import create_events_table  # noqa: E402

PG_ADMIN_URL = os.environ.get("CLONUS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


def _pg_admin_engine() -> sa.engine.Engine:
    return sa.create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")


def _pg_available() -> bool:
    try:
        engine = _pg_admin_engine()
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except sa.exc.OperationalError:
        return False


class _Databases:
    """Throwaway databases made during this test session, dropped at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.pg_dbs: list[str] = []
        self._pg_ok: bool | None = None

    def pg_ok(self) -> bool:
        if self._pg_ok is None:
            self._pg_ok = _pg_available()
        return self._pg_ok

    def new(self, backend: str, migrate: bool = True, with_events: bool = True) -> str:
        if backend == "sqlite":
            url = f"sqlite:///{self.tmp / f'clonus_{uuid.uuid4().hex[:10]}.sqlite3'}"
        else:
            if not self.pg_ok():
                # PostgreSQL is what production runs: its half of the database tests never goes quiet.
                pytest.fail(f"PostgreSQL not reachable at {PG_ADMIN_URL} (set CLONUS_TEST_POSTGRES_URL)")
            name = f"clonus_test_{uuid.uuid4().hex[:12]}"
            engine = _pg_admin_engine()
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            engine.dispose()
            self.pg_dbs.append(name)
            url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        if migrate:
            db.migrate(url)
        if with_events:
            create_events_table(db.get_engine(url))
        return url

    def drop_all(self) -> None:
        db.dispose_engines()
        if not self.pg_dbs:
            return
        engine = _pg_admin_engine()
        with engine.connect() as conn:
            for name in self.pg_dbs:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


@pytest.fixture(scope="session")
def clonus_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Databases]:
    dbs = _Databases(tmp_path_factory.mktemp("clonus_db"))
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(request: pytest.FixtureRequest, clonus_databases: _Databases) -> str:
    """A migrated database (with Rasa's `events` table) shared by the session's tests."""
    return clonus_databases.new(request.param)


@pytest.fixture
def db_backend(db_url: str) -> str:
    return sa.engine.make_url(db_url).get_backend_name()


@pytest.fixture
def db_connection(db_url: str) -> Iterator[sa.engine.Connection]:
    conn = db.get_engine(db_url).connect()
    trans = conn.begin()
    try:
        with db.bind_to_connection(conn, db_url):
            yield conn
    finally:
        if trans.is_active:
            trans.rollback()
        conn.close()


@pytest.fixture
def db_session(db_connection: sa.engine.Connection) -> Iterator[sa.orm.Session]:
    """ORM session inside the test's transaction; commit() only releases a SAVEPOINT."""
    session = sa.orm.Session(bind=db_connection, future=True)
    nested = db_connection.begin_nested()

    @sa.event.listens_for(session, "after_transaction_end")
    def _restart_savepoint(sess, transaction):  # type: ignore[no-untyped-def]
        nonlocal nested
        if not nested.is_active and db_connection.in_transaction():
            nested = db_connection.begin_nested()

    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def fresh_db_url(clonus_databases: _Databases) -> Callable[..., str]:
    """Factory for a new database of a backend, for tests that must commit (or migrate) themselves."""
    return clonus_databases.new


@pytest.fixture
def database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Actions write through bot.db to DATABASE_URL: point it at the test database (both kinds)."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


def rows(url: str, model: type, conversation_id: str) -> list:
    """The rows of `model` stored for one conversation, read on a connection of its own."""
    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(model).where(model.conversation_id == conversation_id)).mappings().all()
    finally:
        engine.dispose()
