"""Database access for the assistant: engine factory, transactions, migrations.

from bot.db import get_engine, session_scope, migrate
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sqlite3
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool, StaticPool

from bot.settings import database_url, db_timeout

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()

# Tests bind every session of a URL to one connection whose transaction they roll back.
_bound: contextvars.ContextVar[dict[str, Connection] | None] = contextvars.ContextVar("clonus_db_bound", default=None)


def _resolve(url: str | None) -> str:
    return url or database_url()


def _make_engine(url: str) -> Engine:
    u = sa.engine.make_url(url)
    if u.get_backend_name() == "sqlite":
        memory = u.database in (None, "", ":memory:")
        kwargs: dict = {
            "future": True,
            "hide_parameters": True,  # bound values (message text, phone numbers) never reach logs or errors
            # A turn (the action server's writes) gives up after CLONUS_DB_TIMEOUT, as the tracker
            # store does, instead of holding the turn past the action timeout on a locked file.
            "connect_args": {"timeout": db_timeout()},
        }
        if memory:
            kwargs["connect_args"]["check_same_thread"] = False
            kwargs["poolclass"] = StaticPool
        else:
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
            if Path(u.database).exists():
                # The file exists: never create it again. A file moved away (or deleted) while the
                # processes run must fail the turn, not be replaced by an empty database whose
                # opening discards the write-ahead log of the real one.
                kwargs["creator"] = sqlite_opener(u.database, db_timeout())
            # SQLAlchemy 1.4 opens a new connection per checkout for SQLite files (NullPool); a
            # small pool saves the connect and PRAGMAs on every transaction (~3 ms -> ~0.1 ms).
            kwargs["connect_args"]["check_same_thread"] = False  # the pool hands each to one thread at a time
            kwargs.update(poolclass=QueuePool, pool_size=5, max_overflow=10)
        engine = sa.create_engine(url, **kwargs)
        _sqlite_transactions(engine, wal=not memory)
        return engine
    # hide_parameters: bound values (message text, phone numbers) never reach logs or error text
    kwargs = {"future": True, "hide_parameters": True}
    if u.get_backend_name() != "postgresql":
        return sa.create_engine(url, **kwargs)
    kwargs["pool_pre_ping"] = True
    kwargs["connect_args"] = {"connect_timeout": max(1, int(round(db_timeout())))}
    engine = sa.create_engine(url, **kwargs)
    event.listen(engine, "connect", _postgresql_session_settings)
    return engine


#: Set on each PostgreSQL connection of these processes (console, consumer, action server). No
#: parallel plans: every query here is a look-up or an index walk that stops after a page, and
#: a parallel plan's worker start-up (8-35 ms measured on the console's list at 100,000
#: conversations, docs/SCALING.md) costs more than it saves; the planner picks one when it
#: underestimates how soon a walk stops. A session setting, so through PgBouncer in transaction
#: mode it may not hold: there set it on the role (ALTER ROLE ... SET max_parallel_workers_per_gather = 0).
POSTGRESQL_SESSION_SETTINGS = {"max_parallel_workers_per_gather": "0"}


def _postgresql_session_settings(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # a SET outside any transaction: it holds for the session
    try:
        with dbapi_connection.cursor() as cursor:
            for name, value in POSTGRESQL_SESSION_SETTINGS.items():
                cursor.execute(f"SET {name} = {value}")
    finally:
        dbapi_connection.autocommit = autocommit


def sqlite_opener(path: str, timeout: float):
    """A pysqlite connect function that opens an existing file read-write and never creates one."""
    uri = "file:" + urllib.parse.quote(str(Path(path).resolve())) + "?mode=rw"

    def connect():  # type: ignore[no-untyped-def]
        return sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)

    return connect


def _sqlite_transactions(engine: Engine, wal: bool) -> None:
    """Make pysqlite's transactions real: BEGIN when SQLAlchemy begins (so SAVEPOINTs and
    transactional DDL work), foreign keys on, WAL so that readers never block the writer.

    A connection may ask for `BEGIN IMMEDIATE` (execution option `sqlite_begin`) to take the write
    lock up front: a deferred transaction that reads and then writes can fail at once with
    SQLITE_BUSY under WAL, where an immediate one waits for the busy timeout instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # SQLAlchemy, not pysqlite, issues BEGIN
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if wal:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


def get_engine(url: str | None = None) -> Engine:
    """The engine of this process for `url` (DATABASE_URL by default), created on first call."""
    url = _resolve(url)
    engine = _engines.get(url)
    if engine is None:
        with _engines_lock:
            engine = _engines.get(url)
            if engine is None:
                engine = _engines[url] = _make_engine(url)
    return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, and before a process forks)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextlib.contextmanager
def session_scope(url: str | None = None, *, write: bool = True) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on error.

    `write=False` is for read-only work (no SQLite write lock taken up front).
    """
    url = _resolve(url)
    bound = (_bound.get() or {}).get(url)
    if bound is not None:
        # Inside a test's transaction: work in a SAVEPOINT so that commit/rollback here never
        # ends the test's transaction.
        session = Session(bind=bound, future=True)
        nested = bound.begin_nested()
        try:
            yield session
            session.flush()
            nested.commit()
        except BaseException:
            if nested.is_active:
                nested.rollback()
            raise
        finally:
            session.close()
        return
    engine = get_engine(url)
    if write and engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
    with Session(bind=engine, future=True) as session, session.begin():
        yield session


def bound_connection(url: str | None = None) -> Connection | None:
    """The connection a test bound `url` to (bind_to_connection), or None outside such a test."""
    return (_bound.get() or {}).get(_resolve(url))


def write_engine(url: str | None = None) -> Engine:
    """The engine for a write transaction: on SQLite it takes the write lock up front (BEGIN
    IMMEDIATE) so that it waits for the busy timeout instead of failing at its first write."""
    engine = get_engine(url)
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")  # type: ignore[return-value]
    return engine


@contextlib.contextmanager
def bind_to_connection(connection: Connection, url: str | None = None) -> Iterator[None]:
    """Route session_scope(url) to `connection` (tests roll its transaction back afterwards)."""
    url = _resolve(url)
    token = _bound.set({**(_bound.get() or {}), url: connection})
    try:
        yield
    finally:
        _bound.reset(token)


def alembic_config(url: str | None = None):  # type: ignore[no-untyped-def]
    """Alembic configuration in code (bot/db/alembic.ini holds the same for the alembic CLI)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", _resolve(url).replace("%", "%%"))
    return cfg


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (idempotent).

    The whole upgrade runs in one transaction that first takes a lock (PostgreSQL advisory lock,
    SQLite write lock), so two processes starting at once apply it once and the second one waits.
    """
    from alembic import command

    url = _resolve(url)
    engine = get_engine(url)
    if engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
    cfg = alembic_config(url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x636C6F6E7573})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    log.info("database schema is at %s", revision)


def current_revision(url: str | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


from bot.db.repository import (  # noqa: E402  (the helpers import session_scope from here)
    in_transcript,
    is_sms_opted_out,
    record_appointment_request,
    record_assessment,
    save_sms_pages,
    set_sms_opt_out,
    take_sms_page,
)

__all__ = [
    "alembic_config",
    "bind_to_connection",
    "bound_connection",
    "current_revision",
    "dispose_engines",
    "get_engine",
    "in_transcript",
    "is_sms_opted_out",
    "migrate",
    "record_appointment_request",
    "record_assessment",
    "save_sms_pages",
    "session_scope",
    "set_sms_opt_out",
    "take_sms_page",
    "write_engine",
]
