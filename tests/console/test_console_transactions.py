"""One database session per request (issue 11): a page view is one read transaction and one short
write transaction for its audit entry; a page that audits nothing writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import event

import bot.db as db
from console import auth
from console.app import SESSION_COOKIE, create_app
from tests.console.helpers import PASSWORD, SECRET, UTC


@pytest.fixture
def counted(fresh_db_url):  # type: ignore[no-untyped-def]
    url = fresh_db_url("sqlite")
    with db.session_scope(url) as s:
        token = auth.start_session(s, auth.create_user(s, "tx-staff", PASSWORD, "staff"))
    begins: list[str] = []
    engine = db.get_engine(url)

    def _count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.startswith("BEGIN"):
            begins.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    client = create_app(database_url=url, secret_key=SECRET, cookie_secure=False, timezone_=UTC).test_client()
    client.set_cookie(SESSION_COOKIE, token)
    try:
        yield client, begins
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def test_a_page_view_is_one_read_and_one_audit_write(counted) -> None:  # type: ignore[no-untyped-def]
    client, begins = counted
    for path in ("/conversations", "/appointments", "/conversations?q=x"):
        begins.clear()
        assert client.get(path).status_code == 200
        assert begins == ["BEGIN", "BEGIN IMMEDIATE"], (path, begins)


def test_a_page_that_audits_nothing_takes_no_write_lock(counted) -> None:  # type: ignore[no-untyped-def]
    client, begins = counted
    begins.clear()
    assert client.get("/dashboard").status_code == 200
    assert begins == ["BEGIN"]


def test_on_postgresql_a_page_view_and_its_audit_entry_are_one_transaction(fresh_db_url) -> None:
    """On PostgreSQL a read takes no lock: the page view's audit entry is written at the end of its
    read transaction, so the request checks out one connection and commits once."""
    import sqlalchemy as sa

    from bot.db.models import AuditLog

    url = fresh_db_url("postgresql")
    with db.session_scope(url) as s:
        token = auth.start_session(s, auth.create_user(s, "tx-staff", PASSWORD, "staff"))
    engine = db.get_engine(url)
    seen: dict[str, int] = {"checkout": 0, "commit": 0}

    def _checkout(*_args) -> None:  # type: ignore[no-untyped-def]
        seen["checkout"] += 1

    def _commit(*_args) -> None:  # type: ignore[no-untyped-def]
        seen["commit"] += 1

    client = create_app(database_url=url, secret_key=SECRET, cookie_secure=False, timezone_=UTC).test_client()
    client.set_cookie(SESSION_COOKIE, token)
    event.listen(engine.pool, "checkout", _checkout)
    event.listen(engine, "commit", _commit)
    try:
        for path, action in (("/conversations", "conversation_list"), ("/conversations?q=x", "search")):
            seen.update(checkout=0, commit=0)
            assert client.get(path).status_code == 200
            assert seen == {"checkout": 1, "commit": 1}, (path, seen)
            with db.session_scope(url, write=False) as s:
                last = s.execute(sa.select(AuditLog).order_by(AuditLog.id.desc()).limit(1)).scalar_one()
                assert (last.actor, last.action) == ("tx-staff", action)
    finally:
        event.remove(engine.pool, "checkout", _checkout)
        event.remove(engine, "commit", _commit)
