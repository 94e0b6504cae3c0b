"""Issue 8, a turn resent after the database refused to store it, end to end.

The real Rasa server and action server. The database fails the Rasa server's save of a turn
AFTER the turn's custom actions ran and committed their side effect (an appointment request, a
triage row): on SQLite another connection takes the write lock the moment the action's row is
committed (tests.security.server_helpers.SqliteLockAfter); on PostgreSQL another session holds
`LOCK TABLE events IN EXCLUSIVE MODE` (reads go on, the save waits and fails at the statement
timeout). The channel answers 503 "could not be saved, please send it again"; the person sends
the same message again once the database is back. After the resend there is exactly one
appointment request (or one triage row) for that turn, and the conversation goes on.
"""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.e2e.stack import Stack, create_postgres_database, dev_post, drop_postgres_database, texts
from tests.security.server_helpers import (
    EMERGENCY_TEXT,
    SqliteLockAfter,
    count_rows,
    is_emergency,
    is_failsafe,
    postgres_events_locked,
    stored_user_texts,
    talk,
)

pytestmark = pytest.mark.e2e

# Seconds a save waits on a lock before the turn is refused (CLONUS_DB_TIMEOUT; also PostgreSQL's
# statement timeout). Longer than the default 2 s so that a stalled event loop stands out.
DB_TIMEOUT = 3.0
# The action server must run these turns (they are about its rows): on a loaded machine it took
# longer than the 1 s emergency time limit and the Rasa server answered by itself (no row).
ENV = {"CLONUS_DB_TIMEOUT": str(DB_TIMEOUT), "CLONUS_EMERGENCY_ACTION_TIMEOUT": "15", "CLONUS_ACTION_TIMEOUT": "30"}

BOOKING_TURNS = [
    ("i want to book an appointment", "name"),
    ("Jane Testperson", "phone"),
    ("(312) 555-0142", "day and time"),
    ("next tuesday at 10am", "what is the visit for"),
    ("my left ankle keeps jerking", "Is this right?"),
]


class Backend:
    def __init__(self, kind: str, stack: Stack, url: str, db_file: Path | None = None) -> None:
        self.kind, self.stack, self.url, self.db_file = kind, stack, url, db_file

    @contextmanager
    def save_fails_after(self, table: str, sender: str):
        """The Rasa server's save of the next turn fails after that turn committed a row of
        `table` for `sender` (on PostgreSQL the save of any turn fails while this is open)."""
        if self.kind == "sqlite":
            before = count_rows(self.url, table, sender)
            sql = f"SELECT 1 WHERE (SELECT count(*) FROM {table} WHERE conversation_id = ?) > ?"
            with SqliteLockAfter(self.db_file, sql, (sender, before)) as lock:
                yield lock
            assert lock.locked.is_set(), f"no {table} row was committed by the turn"
        else:
            with postgres_events_locked(self.url) as lock:
                yield lock


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request, trained_model, tmp_path_factory):
    if request.param == "sqlite":
        db_file = tmp_path_factory.mktemp("resend") / "clonus.sqlite3"
        url = f"sqlite:///{db_file}"
        stack = Stack(model=trained_model, database_url=url, env_extra=ENV, start_timeout=900).start()
        try:
            yield Backend("sqlite", stack, url, db_file)
        finally:
            stack.stop()
    else:
        url = create_postgres_database()
        stack = Stack(model=trained_model, database_url=url, env_extra=ENV, start_timeout=900).start()
        try:
            yield Backend("postgresql", stack, url)
        finally:
            stack.stop()
            drop_postgres_database(url)


def refused(stack: Stack, sender: str, text: str) -> list:
    reply = dev_post(stack.rasa_url, sender, text, timeout=60)
    assert reply.status_code == 503, (reply.status_code, reply.text[:500], stack.logs())
    messages = reply.json()["messages"]
    assert is_failsafe(messages) and "could not be saved" in texts(messages), messages
    return messages


def test_resent_booking_confirmation_makes_one_appointment_request(backend):
    stack, sender = backend.stack, f"resend-book-{uuid.uuid4().hex[:10]}"
    for message, expected in BOOKING_TURNS:
        reply = texts(talk(stack, sender, message))
        assert expected.lower() in reply.lower(), f"after {message!r} got {reply!r}\n{stack.logs()}"

    with backend.save_fails_after("clonus_appointment_request", sender):
        refused(stack, sender, "yes")
    # The action had already stored the request when the save failed.
    assert count_rows(backend.url, "clonus_appointment_request", sender) == 1
    assert "yes" not in stored_user_texts(backend.url, sender)

    again = talk(stack, sender, "yes")
    assert "request is saved" in texts(again), again
    assert count_rows(backend.url, "clonus_appointment_request", sender) == 1

    # The conversation goes on, stored.
    after = talk(stack, sender, "what is clonus")
    assert after and not is_failsafe(after), after
    assert "clonus" in texts(after).lower()
    stored = stored_user_texts(backend.url, sender)
    assert stored.count("yes") == 1 and stored[-1] == "what is clonus", stored
    assert count_rows(backend.url, "clonus_appointment_request", sender) == 1


def test_resent_emergency_turn_leaves_one_triage_row(backend):
    stack, sender = backend.stack, f"resend-triage-{uuid.uuid4().hex[:10]}"
    assert not is_failsafe(talk(stack, sender, "hello"))
    assert count_rows(backend.url, "clonus_triage_assessment", sender) == 0

    with backend.save_fails_after("clonus_triage_assessment", sender):
        first = refused(stack, sender, EMERGENCY_TEXT)
    assert is_emergency(first), first  # the instructions go out even though the turn was not stored
    assert count_rows(backend.url, "clonus_triage_assessment", sender) == 1

    again = talk(stack, sender, EMERGENCY_TEXT)
    assert is_emergency(again) and not is_failsafe(again), again
    assert count_rows(backend.url, "clonus_triage_assessment", sender) == 1

    why = talk(stack, sender, "why?")
    assert why and not is_failsafe(why), why
    assert "phenelzine" in texts(why).lower(), why  # Nardil, by its generic name
    stored = stored_user_texts(backend.url, sender)
    assert stored == ["hello", EMERGENCY_TEXT, "why?"], stored
    assert count_rows(backend.url, "clonus_triage_assessment", sender) == 1


def test_other_conversations_are_answered_while_a_save_waits_on_the_lock(backend):
    """Issue 8: the tracker store's save blocked the event loop while it waited on the lock (up to
    CLONUS_DB_TIMEOUT): nothing else was answered meanwhile, not even a request that needs no
    database, and another conversation's turn started only after the blocked save gave up.

    While conversation A's save waits on the lock: the server's /version is polled (it needs no
    database) and, on SQLite, conversation B sends a turn (its own read waits on the same lock in
    the store's threads and is refused at its timeout, 503 with the fail-safe emergency message)."""
    stack = backend.stack
    a, b = (f"resend-loop-{x}-{uuid.uuid4().hex[:8]}" for x in "ab")
    for sender in (a, b):
        assert not is_failsafe(talk(stack, sender, "hello"))
    answers: dict = {}

    def send(name: str, sender: str) -> None:
        reply = dev_post(stack.rasa_url, sender, EMERGENCY_TEXT, timeout=60)
        answers[name] = (time.monotonic(), reply.status_code, reply.json())

    version_waits = []
    with backend.save_fails_after("clonus_triage_assessment", a) as lock:
        first = threading.Thread(target=send, args=("a", a))
        first.start()
        if backend.kind == "sqlite":
            assert lock.locked.wait(30), "the action's triage row never appeared"
            time.sleep(0.3)  # A's save is waiting on the lock now
            b_sent = time.monotonic()
            second = threading.Thread(target=send, args=("b", b))
            second.start()
        while first.is_alive():
            t = time.monotonic()
            requests.get(f"{stack.rasa_url}/version", timeout=30)
            version_waits.append(time.monotonic() - t)
            time.sleep(0.1)
        first.join()
        if backend.kind == "sqlite":
            second.join()
    assert answers["a"][1] == 503 and is_emergency(answers["a"][2]["messages"]), answers["a"]
    assert max(version_waits) < 1.0, f"/version took {max(version_waits):.2f} s while a save waited on the lock"
    if backend.kind == "sqlite":
        b_at, b_status, b_body = answers["b"]
        assert b_status == 503 and is_emergency(b_body["messages"]), answers["b"]
        # B waited for the lock, not for A's save to give up first (that was DB_TIMEOUT more).
        assert b_at - b_sent < DB_TIMEOUT + 1.5, f"B answered {b_at - b_sent:.2f} s after it was sent"
        print(f"[measure] {backend.kind}: /version max {max(version_waits):.3f} s; B's turn {b_at - b_sent:.2f} s "
              f"(A answered {answers['a'][0] - b_sent:+.2f} s from B's send)")
    else:
        print(f"[measure] {backend.kind}: /version max {max(version_waits):.3f} s over {len(version_waits)} polls")
