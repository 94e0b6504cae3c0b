"""Constants and helpers of the console tests (imported as tests.console.helpers)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from console import auth
from console.app import SESSION_COOKIE

UTC = timezone.utc  # noqa: UP017
SECRET = "test-secret-key-" + "x" * 32
PASSWORD = "a long test passphrase"
NOW = datetime.now(UTC).replace(microsecond=0)

XSS = '<script>alert("pwned")</script><img src=x onerror=alert(1)>"><svg onload=alert(2)>{{7*7}}'
PHONE_IN_TEXT = "call me on 555-555-0199"
SMS_SENDER = "+15555550123"


def sign_in(client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def csrf(client) -> str:  # type: ignore[no-untyped-def]
    return auth.csrf_token(SECRET, client.get_cookie(SESSION_COOKIE).value)
