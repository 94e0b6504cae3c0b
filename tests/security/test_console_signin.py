"""Finding 6 of issue 8: anyone could lock the staff out (five anonymous POSTs locked an account),
there was no per-IP limit (36 failures in 12 s from one address, then a valid sign-in), and
`aaaaaaaaaaaa` was accepted as a password."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

import bot.db as db
from bot.db.models import LoginBackoff, StaffUser
from console import auth, cli, throttle
from console.app import SESSION_COOKIE, create_app
from tests.console.conftest import _fast_password_hashing, admin, app, make_user  # noqa: F401
from tests.console.helpers import PASSWORD, SECRET, UTC, csrf
from tests.security.console_support import ATTACKER_IP, STAFF_IP, attempt, audit_rows, client_at, login_token

WRONG = "not the right passphrase"


def _flood(client, username: str, n: int) -> list:  # type: ignore[no-untyped-def]
    token = login_token(client)
    return [attempt(client, username, WRONG, token=token) for _ in range(n)]


def test_failures_from_elsewhere_never_lock_the_staff_member_out(app, make_user) -> None:  # noqa: F811
    make_user("kim")
    attacker = client_at(app, ATTACKER_IP)
    codes = [r.status_code for r in _flood(attacker, "kim", 12)]
    assert set(codes) <= {401, 429} and 429 in codes
    # Kim, at her own address, signs in at once (this failed: the account was locked for 15 minutes).
    kim = client_at(app, STAFF_IP)
    assert attempt(kim, "kim").status_code == 302


def test_an_attacker_at_the_same_address_cannot_lock_out_a_browser_that_signed_in_before(app, make_user) -> None:  # noqa: F811
    make_user("kim")
    kim = client_at(app, STAFF_IP)
    assert attempt(kim, "kim").status_code == 302
    assert kim.get_cookie(throttle.DEVICE_COOKIE) is not None  # this browser is known now
    kim.post("/logout", data={"csrf_token": csrf(kim)})
    # someone in the same clinic network (same address), without Kim's browser, fails again and again
    attacker = client_at(app, STAFF_IP)
    codes = [r.status_code for r in _flood(attacker, "kim", 15)]
    assert codes.count(429) >= 10
    assert attempt(attacker, "kim").status_code == 429  # the right password does not help the attacker's client
    # Kim's browser has its own budget
    assert attempt(kim, "kim").status_code == 302


def test_failures_from_one_address_are_throttled_with_429_and_retry_after(app, make_user, db_url) -> None:  # noqa: F811
    for name in ("kim", "lee"):
        make_user(name)
    attacker = client_at(app, ATTACKER_IP)
    token = login_token(attacker)
    # password spraying: one wrong guess for each of 36 names from one address
    responses = [attempt(attacker, f"user{i}", WRONG, token=token) for i in range(36)]
    codes = [r.status_code for r in responses]
    assert codes.count(401) <= 10 and codes.count(429) >= 26, codes
    refused = next(r for r in responses if r.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Too many sign-in attempts" in refused.text and "Try again in" in refused.text
    # ... and then a valid sign-in from that address is refused too, for a while (it used to pass)
    assert attempt(attacker, "lee", PASSWORD, token=token).status_code == 429
    # the address of the staff is not affected
    assert attempt(client_at(app, STAFF_IP), "lee").status_code == 302


def test_back_off_per_account_grows_and_never_checks_the_password_meanwhile(app, make_user, db_url) -> None:  # noqa: F811
    make_user("kim")
    client = client_at(app, ATTACKER_IP)
    token = login_token(client)
    codes = [attempt(client, "kim", WRONG, token=token).status_code for _ in range(throttle.FREE_FAILURES)]
    assert codes == [401] * throttle.FREE_FAILURES
    delayed = attempt(client, "kim", PASSWORD, token=token)  # right password, but inside the delay
    assert delayed.status_code == 429 and int(delayed.headers["Retry-After"]) >= 1
    assert "for this account from this browser or address" in delayed.text
    # the delay doubles with each further failure and stops at MAX_DELAY: never a lock
    assert [throttle.delay_after(n).total_seconds() for n in range(3, 8)] == [1, 2, 4, 8, 16]
    assert throttle.delay_after(100) == throttle.MAX_DELAY == timedelta(minutes=15)
    with db.session_scope(db_url) as s:  # the delay passes
        for row in s.execute(sa.select(LoginBackoff)).scalars():
            row.next_allowed_at = auth.now() - timedelta(seconds=1)
    assert attempt(client, "kim", PASSWORD, token=token).status_code == 302
    with db.session_scope(db_url, write=False) as s:  # success forgets this client's failures
        assert s.execute(sa.select(sa.func.count()).select_from(LoginBackoff)).scalar_one() == 0
    failed = [a for a in audit_rows(db_url, "sign_in_bad_credentials") if a.actor == "kim"]
    assert [a.detail["failures"] for a in failed] == [1, 2, 3]


def test_unknown_accounts_are_delayed_like_real_ones(app) -> None:  # noqa: F811
    """The delay must not tell which usernames exist."""
    client = client_at(app, ATTACKER_IP)
    token = login_token(client)
    codes = [attempt(client, "nobody.here", WRONG, token=token).status_code for _ in range(throttle.FREE_FAILURES + 1)]
    assert codes == [401] * throttle.FREE_FAILURES + [429]


def test_admin_can_reset_a_delay(app, admin, make_user, db_url) -> None:  # noqa: F811
    make_user("kim")
    _flood(client_at(app, ATTACKER_IP), "kim", throttle.FREE_FAILURES)
    page = admin.get("/admin/users").text
    assert "sign-in delayed for 1 browser(s) or address(es)" in page
    with db.session_scope(db_url, write=False) as s:
        uid = s.execute(sa.select(StaffUser.id).where(StaffUser.username == "kim")).scalar_one()
    resp = admin.post(f"/admin/users/{uid}", data={"csrf_token": csrf(admin), "action": "reset_delay"})
    assert resp.status_code == 302
    assert "sign-in delayed" not in admin.get("/admin/users").text
    assert audit_rows(db_url, "user_reset_delay")[-1].detail == {"clients": 1}
    assert attempt(client_at(app, ATTACKER_IP), "kim").status_code == 302


def test_x_forwarded_for_counts_only_behind_a_configured_proxy(db_url, db_connection, make_user, monkeypatch) -> None:  # noqa: F811
    make_user("kim")
    direct = create_app(database_url=db_url, secret_key=SECRET, cookie_secure=True, timezone_=UTC)
    client = client_at(direct, ATTACKER_IP)
    token = login_token(client)
    codes = [
        attempt(client, f"user{i}", WRONG, token=token, headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code
        for i in range(15)
    ]
    assert codes.count(429) >= 5  # a header anyone can write does not buy a fresh budget
    monkeypatch.setenv("CONSOLE_TRUSTED_PROXIES", "1")
    proxied = create_app(database_url=db_url, secret_key=SECRET, cookie_secure=True, timezone_=UTC)
    proxy = client_at(proxied, "127.0.0.1")  # the reverse proxy's own address
    token = login_token(proxy)
    flood = [
        attempt(proxy, f"user{i}", WRONG, token=token, headers={"X-Forwarded-For": ATTACKER_IP}).status_code
        for i in range(15)
    ]
    assert flood.count(429) >= 5
    # another client behind the same proxy is a different address
    ok = attempt(proxy, "kim", PASSWORD, token=token, headers={"X-Forwarded-For": f"{STAFF_IP}, {ATTACKER_IP}"})
    assert ok.status_code == 429  # X-Forwarded-For's last entry is the one the proxy saw
    ok = attempt(proxy, "kim", PASSWORD, token=token, headers={"X-Forwarded-For": STAFF_IP})
    assert ok.status_code == 302


WEAK = [
    "aaaaaaaaaaaa",  # the finding
    "password1234",  # in the common-password list zxcvbn ships
    "qwertyuiopasdf",  # keyboard walk
    "123456789012",
    "iloveyou2026",
    "a" * 11,  # too short
]


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused_when_an_admin_creates_a_user(admin, db_url, password) -> None:  # noqa: F811
    resp = admin.post(
        "/admin/users",
        data={"csrf_token": csrf(admin), "username": "new.nurse", "role": "staff", "password": password},
    )
    assert resp.status_code == 400 and "password" in resp.text
    with db.session_scope(db_url, write=False) as s:
        assert s.execute(sa.select(StaffUser).where(StaffUser.username == "new.nurse")).first() is None


@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "password1234"])
def test_weak_passwords_are_refused_by_the_command_line(db_url, db_connection, monkeypatch, password) -> None:
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(password + "\n"))
    with pytest.raises(SystemExit, match="password"):
        cli.main(["--database-url", db_url, "create-user", "nia", "--password-stdin"])


def test_a_password_change_follows_the_same_policy_and_ends_sessions(app, make_user, db_url, monkeypatch) -> None:  # noqa: F811
    make_user("kim")
    kim = client_at(app, STAFF_IP)
    assert attempt(kim, "kim").status_code == 302
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("aaaaaaaaaaaa\n"))
    with pytest.raises(SystemExit, match="too easy to guess"):
        cli.main(["--database-url", db_url, "set-password", "kim", "--password-stdin"])
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("seven quiet herons at dawn\n"))
    assert cli.main(["--database-url", db_url, "set-password", "kim", "--password-stdin"]) == 0
    assert kim.get("/conversations").status_code == 302  # the old session ended
    assert attempt(client_at(app, STAFF_IP), "kim", "seven quiet herons at dawn").status_code == 302
    assert kim.get_cookie(SESSION_COOKIE) is not None


def test_rate_limits_can_be_shared_through_redis(db_url, db_connection, monkeypatch) -> None:
    """Two console processes pointed at the same Redis share one budget per address (the real Redis
    of this machine; a fresh address per run, as the state outlives the test by design)."""
    monkeypatch.setenv("CONSOLE_RATELIMIT_STORAGE", "redis://127.0.0.1:6379/15")
    first, second = (
        create_app(database_url=db_url, secret_key=SECRET, cookie_secure=True, timezone_=UTC) for _ in range(2)
    )
    address = f"test-{uuid.uuid4().hex}"
    client = client_at(first, address)
    token = login_token(client)
    codes = [attempt(client, f"user{i}", WRONG, token=token).status_code for i in range(10)]
    assert codes == [401] * 10
    other = client_at(second, address)
    refused = attempt(other, "user99", WRONG)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_parallel_attempts_cannot_slip_past_the_back_off(fresh_db_url, backend: str) -> None:
    """Eight wrong passwords for one account sent at once, over real HTTP with real commits: the
    (account, client) row is locked from the check to the count, so only the free failures reach the
    password check."""
    import socket
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests
    from waitress.server import create_server

    url = fresh_db_url(backend)
    with db.session_scope(url) as s:
        auth.create_user(s, "kim", PASSWORD, "staff")
    application = create_app(database_url=url, secret_key=SECRET, cookie_secure=False, timezone_=UTC)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = create_server(application, host="127.0.0.1", port=port, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    try:
        http = requests.Session()
        page = http.get(f"{base}/login", timeout=30)
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        cookies = http.cookies.get_dict()

        def one(i: int) -> int:
            data = {"username": "kim", "password": f"{WRONG} {i}", "csrf_token": token}
            return requests.post(
                f"{base}/login", data=data, cookies=cookies, allow_redirects=False, timeout=60
            ).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(one, range(8)))
    finally:
        server.close()
    assert sorted(codes) == [401] * throttle.FREE_FAILURES + [429] * (8 - throttle.FREE_FAILURES), codes
