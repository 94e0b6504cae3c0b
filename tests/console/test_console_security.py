"""Sign-in, sessions, roles, CSRF, headers, escaping of hostile text, and injection-proof search."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

import bot.db as db
from bot.db.models import AuditLog, StaffSession, StaffUser
from console import auth
from console.app import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from tests.console.helpers import PASSWORD, SECRET, XSS, csrf, sign_in


def _audit(db_url: str, action: str | None = None) -> list[AuditLog]:
    with db.session_scope(db_url, write=False) as s:
        q = sa.select(AuditLog).order_by(AuditLog.id)
        if action:
            q = q.where(AuditLog.action == action)
        rows = list(s.execute(q).scalars())
        s.expunge_all()
        return rows


def _fill(rule) -> str:  # type: ignore[no-untyped-def]
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(rf"<(?:\w+:)?{arg}>", "1", path)
    return path


def _routes(app):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "auth.login"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_refuses_requests_without_a_session(app, seeded) -> None:
    client = app.test_client()
    routes = list(_routes(app))
    assert len(routes) >= 14  # the enumeration really covers the app
    for rule, method in routes:
        resp = client.open(_fill(rule), method=method, data={"csrf_token": "x"})
        assert resp.status_code in (302, 401), (rule.rule, method, resp.status_code)
        if resp.status_code == 302:
            assert resp.headers["Location"].startswith("/login")
        assert b"conv-b-urgent" not in resp.data and b"SS-HUNTER" not in resp.data


def test_a_forged_or_revoked_session_cookie_is_refused(app, staff, db_url) -> None:
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, "forged-token")
    assert client.get("/conversations").status_code == 302
    # sign out, then replay the old cookie
    old = staff.get_cookie(SESSION_COOKIE).value
    token = csrf(staff)
    assert staff.post("/logout", data={"csrf_token": token}).status_code == 302
    replay = app.test_client()
    replay.set_cookie(SESSION_COOKIE, old)
    assert replay.get("/conversations").status_code == 302


def test_staff_cannot_reach_admin_pages(app, staff) -> None:
    admin_routes = [
        (rule, method)
        for rule, method in _routes(app)
        if getattr(app.view_functions[rule.endpoint], "admin_only", False)
    ]
    assert {r.rule for r, _ in admin_routes} >= {"/admin/users", "/admin/audit", "/admin/users/<int:user_id>"}
    for rule, method in admin_routes:
        resp = staff.open(
            _fill(rule),
            method=method,
            data={"csrf_token": csrf(staff), "action": "disable", "username": "x", "password": "y" * 20},
        )
        assert resp.status_code == 403, (rule.rule, method)


def test_admin_reaches_admin_pages(admin) -> None:
    assert admin.get("/admin/users").status_code == 200
    assert admin.get("/admin/audit").status_code == 200


def test_sign_in_sets_a_secure_cookie_and_is_audited(app, make_user, db_url) -> None:
    make_user("robin", "staff")
    client = app.test_client()
    resp = sign_in(client, "robin")
    assert resp.status_code == 302
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    with db.session_scope(db_url, write=False) as s:
        assert (
            s.execute(sa.select(StaffUser.password_hash).where(StaffUser.username == "robin"))
            .scalar_one()
            .startswith("$argon2id$")
        )
    assert [a.actor for a in _audit(db_url, "sign_in")] == ["robin"]
    assert client.get("/conversations").status_code == 200


def test_unknown_user_gets_the_same_answer(app) -> None:
    client = app.test_client()
    resp = sign_in(client, "nobody", PASSWORD)
    assert resp.status_code == 401
    assert "wrong username or password" in resp.text


def test_disabling_a_user_ends_their_session(app, admin, staff, db_url) -> None:
    assert staff.get("/conversations").status_code == 200
    with db.session_scope(db_url, write=False) as s:
        uid = s.execute(sa.select(StaffUser.id).where(StaffUser.username == "sam.staff")).scalar_one()
    resp = admin.post(f"/admin/users/{uid}", data={"csrf_token": csrf(admin), "action": "disable"})
    assert resp.status_code == 302
    assert staff.get("/conversations").status_code == 302
    assert sign_in(app.test_client(), "sam.staff").status_code == 401
    assert [a.target for a in _audit(db_url, "user_disable")] == ["user:sam.staff"]


def test_idle_sessions_expire(staff, db_url) -> None:
    with db.session_scope(db_url) as s:
        for row in s.execute(sa.select(StaffSession)).scalars():
            row.last_seen_at = auth.now() - auth.IDLE_TIMEOUT - timedelta(minutes=1)
    assert staff.get("/conversations").status_code == 302


@pytest.mark.parametrize("token", [None, "", "0" * 64, "wrong"])
def test_posts_need_the_csrf_token(staff, seeded, token) -> None:
    data = {"reviewed": "1"} if token is None else {"reviewed": "1", "csrf_token": token}
    resp = staff.post(f"/conversations/{seeded['refs']['A']}/review", data=data)
    assert resp.status_code == 400


def test_csrf_token_of_another_session_is_refused(app, staff, make_user, seeded) -> None:
    make_user("other", "staff")
    other = app.test_client()
    sign_in(other, "other")
    resp = staff.post(f"/conversations/{seeded['refs']['A']}/review", data={"reviewed": "1", "csrf_token": csrf(other)})
    assert resp.status_code == 400
    assert (
        staff.post(
            f"/conversations/{seeded['refs']['A']}/review", data={"reviewed": "1", "csrf_token": csrf(staff)}
        ).status_code
        == 302
    )


def test_sign_in_form_needs_its_csrf_cookie(app, make_user) -> None:
    make_user("lee", "staff")
    client = app.test_client()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.delete_cookie(LOGIN_CSRF_COOKIE)
    assert client.post("/login", data={"username": "lee", "password": PASSWORD, "csrf_token": token}).status_code == 400


def test_security_headers_and_no_inline_script(staff, seeded) -> None:
    pages = ["/conversations", f"/conversations/{seeded['refs']['A']}", "/appointments", "/dashboard", "/login"]
    for path in pages:
        resp = staff.get(path)
        assert resp.status_code == 200, path
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Cache-Control"] == "no-store"
        html = resp.text
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert re.search(r'\ssrc="/static/[^"]+"', tag), tag
        assert re.findall(r"<script\b[^>]*>([^<]+)</script>", html) == []
        assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", html), path
        assert "http://" not in html.replace("http://evil.example", "") and "https://" not in html


def test_hostile_text_is_shown_as_text(staff, seeded) -> None:
    html = staff.get(f"/conversations/{seeded['refs']['A']}").text
    assert "<script>alert" not in html and "<img src=x" not in html and "<svg onload" not in html
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "{{7*7}}" in html and ">49<" not in html
    assert "sertraline&lt;b&gt;" in html  # entity values too
    # notes and appointment fields
    ref = seeded["refs"]["A"]
    staff.post(f"/conversations/{ref}/notes", data={"csrf_token": csrf(staff), "text": XSS})
    html = staff.get(f"/conversations/{ref}").text
    assert "<script>alert" not in html and html.count("&lt;script&gt;") >= 3
    html = staff.get("/appointments").text
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    for path in ("/conversations?q=" + XSS, "/conversations?channel=" + XSS, "/conversations?rule=" + XSS):
        assert "<script>alert" not in staff.get(path).text


INJECTIONS = [
    "' OR 1=1 --",
    "' OR '1'='1",
    "'; DROP TABLE clonus_audit_log; --",
    "%' UNION SELECT username, password_hash FROM clonus_staff_user --",
    '" OR ""="',
    "%",
    "_",
    "\\",
    "1; SELECT pg_sleep(5)",
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_search_input_cannot_change_the_query(staff, seeded, db_url, payload) -> None:
    for param in ("q", "rule", "channel", "level", "from", "to", "reviewed", "page"):
        resp = staff.get("/conversations", query_string={param: payload})
        # free text is searched for literally (rule ids and channels have at most 64 characters);
        # a parameter with a fixed form refuses anything else
        free = param == "q" or (param in ("rule", "channel") and len(payload) <= 64)
        assert resp.status_code == (200 if free else 400), (param, payload)
        assert "argon2" not in resp.text
        if resp.status_code == 400:
            assert f"{param}: " in resp.text and 'class="conv-link"' not in resp.text
        if free:
            # nothing in the data contains these strings, so nothing may match
            assert "No conversation matches" in resp.text, (param, payload)
    resp = staff.get("/export.json", query_string={"q": payload})
    assert resp.json["conversations"] == []
    with db.get_engine(db_url).connect() as conn:
        names = sa.inspect(conn).get_table_names()
    assert "clonus_audit_log" in names and "clonus_staff_user" in names


def test_search_matches_literal_percent_and_underscore(staff, seeded) -> None:
    html = staff.get("/conversations", query_string={"q": "ZOLOFT"}).text
    assert html.count('class="conv-link"') == 2  # A and C mention zoloft (search ignores case)
    assert seeded["refs"]["A"] in html and seeded["refs"]["C"] in html
    assert staff.get("/conversations", query_string={"q": "zol%ft"}).text.count('class="conv-link"') == 0
    assert staff.get("/conversations", query_string={"q": "zol_ft"}).text.count('class="conv-link"') == 0


def test_logs_never_contain_message_text_or_phone_numbers(staff, seeded, admin, caplog) -> None:
    caplog.set_level("DEBUG")
    for ref in seeded["refs"].values():
        staff.get(f"/conversations/{ref}")
    staff.post(
        f"/conversations/{seeded['refs']['A']}/notes",
        data={"csrf_token": csrf(staff), "text": "patient says 555-555-0100"},
    )
    staff.get("/conversations?q=zoloft")
    staff.get("/appointments")
    staff.get("/export.csv")
    text = caplog.text
    assert "transcript" in text  # something was logged
    # whole numbers: a random hex ref may well contain "555"
    for secret in ("zoloft", "legs jerk", "+1555", "5555550123", "555-555-01", "5555550142", "Jordan", "phenelzine"):
        assert secret not in text, secret
    assert SECRET not in text


def test_errors_are_logged_without_their_message(app, staff, caplog, monkeypatch) -> None:
    from console import conversations as conv

    phone, text = "+1" + "555" * 2 + "0166", " ".join(["my", "legs", "jerk"])  # not in any source line

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError(f"Failing row contains ({phone}, {text})")

    monkeypatch.setattr(conv, "list_conversations", boom)
    caplog.set_level("ERROR")
    resp = staff.get("/conversations")
    assert resp.status_code == 500 and phone not in resp.text
    assert "RuntimeError on GET conversations" in caplog.text
    assert phone not in caplog.text and text not in caplog.text
