"""Finding 7 of issue 8: the audit trail missed disclosures: the appointment queue (full names and
phone numbers), searches (`?q=`), refused requests (403) and views of the audit log itself."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

import bot.db as db
from console import conversations as conv
from tests.console.conftest import _fast_password_hashing, admin, app, make_user, seeded, staff  # noqa: F401
from tests.console.helpers import SECRET, csrf
from tests.security.console_support import ATTACKER_IP, attempt, audit_rows, client_at, login_token


def test_appointment_queue_views_are_audited_with_what_was_shown(staff, seeded, db_url) -> None:  # noqa: F811
    assert staff.get("/appointments").status_code == 200
    assert staff.get("/appointments?status=all").status_code == 200
    rows = audit_rows(db_url, "appointments_view")
    assert [r.actor for r in rows] == ["sam.staff", "sam.staff"]
    assert rows[0].detail["shown"] == [seeded["appointment"]] and rows[0].detail["status"] == "open"
    assert rows[0].detail["phone_visible"] is True
    assert rows[1].detail["status"] == "all"


def test_searches_are_audited_with_filters_but_not_the_text(staff, seeded, db_url) -> None:  # noqa: F811
    text = "Phenelzine"
    resp = staff.get("/conversations", query_string={"q": text, "level": "urgent", "from": "2020-01-01"})
    assert resp.status_code == 200
    (row,) = audit_rows(db_url, "search")
    assert row.actor == "sam.staff"
    f = row.detail["filters"]
    assert f["level"] == "urgent" and f["from"] == "2020-01-01"
    assert f["q_length"] == len(text)
    assert f["q_hmac"] == conv.search_hmac(SECRET, text)  # checkable by whoever holds the key
    assert row.detail["shown"] == [seeded["refs"]["B"]]
    dump = json.dumps([r.detail for r in audit_rows(db_url)]).lower()
    assert "phenelzine" not in dump
    # the plain list is recorded as well (it ties triage levels to conversations)
    staff.get("/conversations")
    assert audit_rows(db_url, "conversation_list")[-1].detail["rows"] == 6


def test_exports_never_store_the_search_text(staff, seeded, db_url) -> None:  # noqa: F811
    for path in ("/export.csv", "/export.json"):
        assert staff.get(path, query_string={"q": "zoloft"}).status_code == 200
    rows = audit_rows(db_url, "export")
    assert [r.detail["format"] for r in rows] == ["csv", "json"]
    assert all(r.detail["filters"]["q_length"] == 6 for r in rows)
    assert "zoloft" not in json.dumps([r.detail for r in rows])


def test_forbidden_requests_are_audited(staff, db_url) -> None:  # noqa: F811
    assert staff.get("/admin/audit").status_code == 403
    assert staff.post("/admin/users", data={"csrf_token": csrf(staff)}).status_code == 403
    rows = audit_rows(db_url, "refused")
    assert [(r.actor, r.detail["status"], r.detail["endpoint"]) for r in rows] == [
        ("sam.staff", 403, "audit_log"),
        ("sam.staff", 403, "create_user"),
    ]


def test_requests_without_a_session_are_audited(app, seeded, db_url) -> None:  # noqa: F811
    stranger = client_at(app, ATTACKER_IP)
    ref = seeded["refs"]["A"]
    assert stranger.get(f"/conversations/{ref}").status_code == 302
    assert stranger.post(f"/conversations/{ref}/review", data={"csrf_token": "x"}).status_code == 401
    rows = audit_rows(db_url, "refused")
    assert [(r.actor, r.detail["status"], r.target, r.detail["ip"]) for r in rows] == [
        ("(anonymous)", 401, ref, ATTACKER_IP),
        ("(anonymous)", 401, ref, ATTACKER_IP),
    ]


def test_csrf_failures_are_audited(app, staff, seeded, db_url) -> None:  # noqa: F811
    ref = seeded["refs"]["A"]
    assert staff.post(f"/conversations/{ref}/review", data={"csrf_token": "forged"}).status_code == 400
    stranger = client_at(app, ATTACKER_IP)
    login_token(stranger)
    assert stranger.post("/login", data={"username": "x", "password": "y", "csrf_token": "forged"}).status_code == 400
    rows = audit_rows(db_url, "refused")
    assert [(r.actor, r.detail["status"], r.detail["reason"]) for r in rows] == [
        ("sam.staff", 400, "invalid or missing CSRF token"),
        ("(anonymous)", 400, "invalid or missing CSRF token"),
    ]


def test_throttled_requests_are_audited_without_flooding_the_log(app, db_url) -> None:  # noqa: F811
    attacker = client_at(app, ATTACKER_IP)
    token = login_token(attacker)
    codes = [attempt(attacker, f"user{i}", "wrong", token=token).status_code for i in range(80)]
    assert codes.count(429) >= 50
    refused = audit_rows(db_url, "refused")
    assert {r.detail["status"] for r in refused} == {429}
    assert all(r.detail["ip"] == ATTACKER_IP for r in refused)
    # the append-only log is bounded per address and minute, and says so
    assert len(refused) == 30
    (note,) = audit_rows(db_url, "refused_not_recorded")
    assert note.detail == {"ip": ATTACKER_IP, "per_minute": 30}


def test_views_of_the_audit_log_are_audited(admin, db_url) -> None:  # noqa: F811
    assert admin.get("/admin/audit", query_string={"action": "sign_in", "page": "1"}).status_code == 200
    (row,) = audit_rows(db_url, "audit_view")
    assert row.actor == "ada.admin" and row.detail == {"action": "sign_in", "actor": "", "page": 1}
    assert admin.get("/admin/users").status_code == 200
    assert [r.actor for r in audit_rows(db_url, "users_view")] == ["ada.admin"]


@pytest.mark.parametrize("statement", ["UPDATE clonus_audit_log SET actor = 'x'", "DELETE FROM clonus_audit_log"])
def test_the_audit_log_stays_append_only(admin, db_url, statement) -> None:  # noqa: F811
    admin.get("/admin/audit")
    with pytest.raises(sa.exc.DBAPIError), db.session_scope(db_url) as s:
        s.execute(sa.text(statement))


def test_refused_parameters_are_audited_under_the_signed_in_user(staff, db_url) -> None:  # noqa: F811
    assert staff.get("/conversations", query_string={"q": "zoloft\x00"}).status_code == 400
    assert staff.get("/conversations", query_string={"to": "9999-12-31"}).status_code == 400
    assert staff.put("/conversations").status_code == 405  # not a CSRF refusal: the method does not exist
    rows = audit_rows(db_url, "refused")
    assert [(r.actor, r.detail["status"]) for r in rows] == [("sam.staff", 400), ("sam.staff", 400)]
    assert "zoloft" not in json.dumps([r.detail for r in rows])
