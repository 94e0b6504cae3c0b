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
