"""Issue 8 item 5: a database outage never loses a conversation silently.

The real Rasa server stores conversations in SQLite (the default) or PostgreSQL. The database is
stopped in the middle of a conversation (SQLite: another process holds an exclusive lock;
PostgreSQL: the TCP connection to it is cut and refused). A turn that cannot be read or stored is
answered with the fail-safe notice (with the emergency message when it is one), never as if it
were stored; after recovery the conversation goes on where it was, and every turn that got a
normal answer is in the database: zero lost events.
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.stack import Stack, create_postgres_database, drop_postgres_database, texts
from tests.security.server_helpers import (
    EMERGENCY_TEXT,
    TcpProxy,
    assert_no_unfilled_value,
    is_emergency,
    is_failsafe,
    sqlite_locked,
    stored_user_texts,
    talk,
)

pytestmark = pytest.mark.e2e

TURNS = ["hello", "I take baclofen", "my leg jerks when I stand up"]


def converse_through_an_outage(stack: Stack, database_url: str, outage) -> None:
    who = "db-" + uuid.uuid4().hex
    answered_as_stored = []
    for text in TURNS[:2]:
        reply = talk(stack, who, text)
        assert reply and not is_failsafe(reply), reply
        answered_as_stored.append(text)
    with outage():
        during = talk(stack, who, "what about my medicines?", timeout=30)
        emergency = talk(stack, who, EMERGENCY_TEXT, timeout=30)
    # Not answered as if stored: the fail-safe notice, and the emergency message for the emergency.
    assert is_failsafe(during), during
    assert is_failsafe(emergency) and is_emergency(emergency), emergency
    assert_no_unfilled_value(during + emergency)
    for reply in (during, emergency):
        assert "could not be saved" in texts(reply), reply
    # Recovery: the conversation is the one it was (not a new, empty one).
    after = talk(stack, who, TURNS[2])
    assert after and not is_failsafe(after), after
    answered_as_stored.append(TURNS[2])
    why = talk(stack, who, "why?")
    assert not is_failsafe(why)
    answered_as_stored.append("why?")
    stored = stored_user_texts(database_url, who)
    lost = [t for t in answered_as_stored if t not in stored]
    assert lost == [], f"answered but not stored: {lost}; stored: {stored}"
    # What the outage refused is not in the conversation either (it was not answered as stored).
    assert "what about my medicines?" not in stored


def test_sqlite_locked_mid_conversation_loses_nothing(trained_model, tmp_path):
    db_file = tmp_path / "clonus.sqlite3"
    url = f"sqlite:///{db_file}"
    stack = Stack(model=trained_model, database_url=url).start()
    try:
        converse_through_an_outage(stack, url, lambda: sqlite_locked(db_file))
        assert db_file.stat().st_mode & 0o077 == 0, oct(db_file.stat().st_mode)
    finally:
        stack.stop()


def test_postgresql_cut_mid_conversation_loses_nothing(trained_model):
    direct = create_postgres_database()
    proxy = TcpProxy().start()
    stack = Stack(model=trained_model, database_url=proxy.url(direct)).start()

    class Outage:
        def __enter__(self):
            proxy.cut()

        def __exit__(self, *exc):
            proxy.restore()

    try:
        converse_through_an_outage(stack, direct, Outage)
    finally:
        stack.stop()
        proxy.cut()
        drop_postgres_database(direct)
