"""What the console's blueprints share: the app's settings and limiters (`state()`), the one
database session of a request (`db()`), the audit entry of a view (`audit_view`), and small helpers.

One session per request, opened on first use and closed in teardown. A GET reads in a read
transaction (no write lock on SQLite) and writes nothing while the view runs: its audit entry and
the session touch are queued (`later`) and written after the view: on SQLite in one short write
transaction of the same session, on PostgreSQL at the end of the read transaction, before its one
commit. A POST works in one write transaction from the start (its change and its audit entry
commit together). A view that fails rolls everything back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from functools import wraps
from typing import Any

from flask import abort, current_app, g, request
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction
from werkzeug.exceptions import TooManyRequests

import bot.db
from bot.db.repository import audit
from console import throttle

log = logging.getLogger(__name__)

ANONYMOUS = "(anonymous)"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class ConsoleState:
    url: str | None
    tz: tzinfo
    limit_anonymous: throttle.KeyedLimiter
    limit_signin: throttle.KeyedLimiter
    limit_user: throttle.KeyedLimiter
    audit_budget: throttle.KeyedLimiter
    audit_gap_note: throttle.KeyedLimiter
    database_ready: Callable[[], bool] | None


def state() -> ConsoleState:
    return current_app.extensions["clonus"]


class RequestDB:
    """The database session of one request (see the module docstring)."""

    def __init__(self, url: str | None, write: bool) -> None:
        self.url = url
        self.write = write
        self.session: Session | None = None
        self._tx: SessionTransaction | None = None
        self._nested: Any = None  # a test's SAVEPOINT (bot.db.bind_to_connection)
        self._bound: Connection | None = bot.db.bound_connection(url)
        self._pending: list[Callable[[Session], None]] = []

    def _begin(self, write: bool) -> Session:
        if self._bound is not None:
            if self.session is None:
                self.session = Session(bind=self._bound, future=True)
            self._nested = self._bound.begin_nested()
            return self.session
        bind = bot.db.write_engine(self.url) if write else bot.db.get_engine(self.url)
        if self.session is None:
            self.session = Session(bind=bind, future=True)
        else:
            self.session.bind = bind
        self._tx = self.session.begin()
        return self.session

    def get(self) -> Session:
        if self._tx is not None or self._nested is not None:
            return self.session  # type: ignore[return-value]
        return self._begin(self.write)

    def _end(self, commit: bool) -> None:
        s = self.session
        try:
            if self._nested is not None:
                if commit:
                    s.flush()  # type: ignore[union-attr]
                    self._nested.commit()
                elif self._nested.is_active:
                    self._nested.rollback()
            elif self._tx is not None:
                if commit:
                    self._tx.commit()
                elif self._tx.is_active:
                    self._tx.rollback()
        finally:
            self._tx = self._nested = None

    def later(self, fn: Callable[[Session], None]) -> None:
        """Run fn in the write phase (at once when this request writes anyway)."""
        if self.write:
            fn(self.get())
        else:
            self._pending.append(fn)

    def write_now(self, fn: Callable[[Session], None]) -> None:
        """End what this request did (rolled back) and run fn in its own write transaction."""
        self.discard()
        s = self._begin(True)
        try:
            fn(s)
            self._end(True)
        except BaseException:
            self._end(False)
            raise

    def _one_transaction(self) -> bool:
        """Whether a read request's queued writes go into its read transaction: on PostgreSQL (a
        read takes no lock there; one commit, and no second connection check-out, instead of a
        commit, a check-out with its ping, a BEGIN and a commit), not on SQLite (a write
        transaction takes the database's one write lock: only for the short write phase)."""
        bind = self._bound if self._bound is not None else bot.db.get_engine(self.url)
        return bind.dialect.name != "sqlite"

    def finish(self) -> None:
        """After the view: commit its transaction, then the queued writes in one transaction (on
        PostgreSQL, the queued writes first, in the view's transaction, then its commit)."""
        pending, self._pending = self._pending, []
        if pending and self._one_transaction():
            self._write(self.get(), pending)
            return
        self._end(True)
        if pending:
            self._write(self._begin(True), pending)

    def _write(self, s: Any, pending: list) -> None:
        """Run the queued writes in the open transaction `s` and end it (rolled back on failure)."""
        try:
            for fn in pending:
                fn(s)
            self._end(True)
        except BaseException:
            self._end(False)
            raise

    def discard(self) -> None:
        self._pending = []
        self._end(False)

    def close(self) -> None:
        self.discard()
        if self.session is not None:
            self.session.close()
            self.session = None


def request_db() -> RequestDB:
    rdb = g.get("_clonus_db")
    if rdb is None:
        rdb = g._clonus_db = RequestDB(state().url, write=request.method not in READ_METHODS)
    return rdb


def db() -> Session:
    """The session of this request (one transaction; see the module docstring)."""
    return request_db().get()


def audit_view(action: str, target: str | None = None, detail: dict[str, Any] | None = None) -> None:
    """The audit entry of this request, by the signed-in user (written with the request's writes)."""
    actor = g.user["username"]
    request_db().later(lambda s: audit(s, actor, action, target, detail))


def client_ip() -> str:
    return request.remote_addr or "unknown"


def actor() -> str:
    return g.get("actor") or ANONYMOUS


def short_endpoint() -> str | None:
    """The view's name without its blueprint ("audit_log", not "admin.audit_log"): the audit log
    keeps the names it had before the console was split into blueprints."""
    return request.endpoint.rsplit(".", 1)[-1] if request.endpoint else None


def too_many(verdict: throttle.Verdict, what: str) -> TooManyRequests:
    return TooManyRequests(
        description=f"Too many {what}. Try again in {verdict.retry_after} second{'s' if verdict.retry_after != 1 else ''}.",
        retry_after=verdict.retry_after,
    )


def admin_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.user["role"] != "admin":
            abort(403)
        return view(*args, **kwargs)

    wrapper.admin_only = True  # type: ignore[attr-defined]
    return wrapper


def page() -> int:
    from console import params

    return params.page(request.args)
