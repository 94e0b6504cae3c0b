"""Helpers of the console's security tests (tests/security/test_console_*.py). The fixtures are the
console tests' own (tests/console/conftest.py: the app on SQLite and PostgreSQL, signed-in clients,
seeded conversations); each test module imports the ones it uses."""

from __future__ import annotations

import re

import sqlalchemy as sa

import bot.db as db
from bot.db.models import AuditLog
from tests.console.helpers import PASSWORD

ATTACKER_IP = "203.0.113.66"  # documentation ranges (RFC 5737): never routed
STAFF_IP = "198.51.100.7"


def client_at(app, ip: str):  # type: ignore[no-untyped-def]
    """A test client whose requests come from `ip`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def login_token(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    assert page.status_code == 200, page.status_code
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def attempt(client, username: str, password: str = PASSWORD, token: str | None = None, **kw):  # type: ignore[no-untyped-def]
    """One sign-in POST (fetches the form first unless a token of this client is given)."""
    token = token or login_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token}, **kw)


def audit_rows(db_url: str, action: str | None = None) -> list[AuditLog]:
    with db.session_scope(db_url, write=False) as s:
        q = sa.select(AuditLog).order_by(AuditLog.id)
        if action:
            q = q.where(AuditLog.action == action)
        rows = list(s.execute(q).scalars())
        s.expunge_all()
    return rows
