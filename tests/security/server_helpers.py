"""Helpers for the Rasa-server security and fault tests (tests/security/test_server_*.py,
tests/security/test_logs.py): a stack of our own per module (these tests stop, freeze and kill its
parts), a TCP proxy in front of PostgreSQL that can be cut, an SQLite lock, and one place that
says how a test talks to the assistant (`talk`), so that a change of channel is one edit here."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

import sqlalchemy as sa

from tests.e2e.stack import Stack, dev_post, texts

# Nardil (an MAOI) + Demerol (pethidine) + fever + jerking: serotonin syndrome, an emergency.
EMERGENCY_TEXT = "I take Nardil and the doctor gave me Demerol, now I have a fever and my legs keep jerking"
CLINIC_PHONE = "(312) 555-0100"


def talk(stack: Stack, sender: str, message: str, timeout: float = 60) -> List[dict]:
    """One turn as the tests' channel sees it (the dev channel, rasa_ext.channels.dev; a 503 gives
    the fail-safe messages the channel answered with)."""
    reply = dev_post(stack.rasa_url, sender, message, timeout=timeout)
    if reply.status_code == 503:
        body = reply.json() if reply.headers.get("Content-Type", "").startswith("application/json") else {}
        return body.get("messages", []) if isinstance(body, dict) else body
    reply.raise_for_status()
    return reply.json()


def assert_no_unfilled_value(messages: List[dict]) -> None:
    for m in messages:
        text = m.get("text") or ""
        assert "None" not in text and "{" not in text and "}" not in text, m


def is_failsafe(messages: List[dict]) -> bool:
    return any((m.get("custom") or {}).get("failsafe") for m in messages)


def is_emergency(messages: List[dict]) -> bool:
    return any((m.get("custom") or {}).get("emergency") for m in messages) and "911" in texts(messages)


def action_pid(stack: Stack) -> int:
    return stack.named["actions"].pid


def freeze_action_server(stack: Stack) -> None:
    """SIGSTOP: the action server still accepts connections (the kernel does) but never answers."""
    os.kill(action_pid(stack), signal.SIGSTOP)


def thaw_action_server(stack: Stack) -> None:
    os.kill(action_pid(stack), signal.SIGCONT)


def stored_user_texts(database_url: str, sender: str) -> List[str]:
    import json

    engine = sa.create_engine(database_url, future=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"), {"s": sender}
            ).scalars().all()
    finally:
        engine.dispose()
    return [json.loads(r).get("text") for r in rows]


@contextmanager
def sqlite_locked(path: Path) -> Iterator[None]:
    """Another process holds an exclusive lock on the SQLite file: nobody else reads or writes."""
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


class TcpProxy:
    """A loopback TCP proxy to PostgreSQL that a test can cut (refuse and reset every connection)
    and restore on the same port."""

    def __init__(self, target_host: str = "127.0.0.1", target_port: int = 5432) -> None:
        self.target = (target_host, target_port)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._listener: Optional[socket.socket] = None
        self._conns: List[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> "TcpProxy":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        """The database is gone: new connections are refused, open ones are reset."""
        # close() alone does not wake a thread blocked in accept() or recv() on Linux: the socket
        # stays open (still listening, still connected) until that call returns. shutdown() does.
        if self._listener is not None:
            for step in (lambda: self._listener.shutdown(socket.SHUT_RDWR), self._listener.close):
                try:
                    step()
                except OSError:
                    pass
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass

    def restore(self) -> None:
        self.start()

    def url(self, database_url: str) -> str:
        return str(sa.engine.make_url(database_url).set(host="127.0.0.1", port=self.port))


def wait_until(predicate, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class SqliteLockAfter:
    """Another connection takes the SQLite write lock the moment a row appears.

    A thread polls `sql` (every millisecond, each poll its own read under WAL, so it sees the
    action server's commit at once) and, when it returns a row, opens a write transaction
    (`BEGIN IMMEDIATE`) and holds it until `release()`. Armed before a turn is sent, with `sql`
    finding the row the turn's custom action commits, it makes the database fail the Rasa server's
    save of that turn after its actions ran, the way a writer holding the file does."""

    def __init__(self, path: Path, sql: str, params: tuple = (), give_up: float = 60) -> None:
        self.path, self.sql, self.params, self.give_up = path, sql, params, give_up
        self.locked = threading.Event()
        self.locked_at: Optional[float] = None
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "SqliteLockAfter":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        self._release.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        try:
            deadline = time.monotonic() + self.give_up
            while not self._release.is_set() and time.monotonic() < deadline:
                if conn.execute(self.sql, self.params).fetchone() is not None:
                    conn.execute("BEGIN IMMEDIATE")
                    self.locked_at = time.monotonic()
                    self.locked.set()
                    self._release.wait()
                    conn.execute("ROLLBACK")
                    return
                time.sleep(0.001)
        finally:
            conn.close()


@contextmanager
def postgres_events_locked(database_url: str) -> Iterator[None]:
    """Another session holds `LOCK TABLE events IN EXCLUSIVE MODE` (what a long maintenance
    transaction does): reads go on, every write to Rasa's tracker store waits, and the Rasa server's
    save fails at its statement timeout, after the turn's custom actions ran and committed (they
    write other tables)."""
    engine = sa.create_engine(database_url, future=True)
    conn = engine.connect()
    try:
        trans = conn.begin()
        conn.execute(sa.text("LOCK TABLE events IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            trans.rollback()
    finally:
        conn.close()
        engine.dispose()


def count_rows(database_url: str, table: str, conversation_id: str) -> int:
    engine = sa.create_engine(database_url, future=True)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text(f"SELECT count(*) FROM {table} WHERE conversation_id = :c"), {"c": conversation_id}
                ).scalar_one()
            )
    finally:
        engine.dispose()
