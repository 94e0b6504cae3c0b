"""What staff see and do: list order and filters, transcript, review and notes, appointment queue,
dashboard, export, audit log."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

import bot.db as db
from bot.db.models import AppointmentRequest, AuditLog, ConversationReview, ReviewNote
from console.consumer import catch_up
from tests.console.helpers import NOW, csrf


def _refs_in(html: str) -> list[str]:
    return re.findall(r'href="/conversations/([0-9a-f]+)" class="conv-link"', html)


def _audit(db_url: str, action: str) -> list[AuditLog]:
    with db.session_scope(db_url, write=False) as s:
        rows = list(s.execute(sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).scalars())
        s.expunge_all()
    return rows


def test_list_puts_unreviewed_emergencies_then_urgent_first_then_newest(staff, seeded) -> None:
    r = seeded["refs"]
    html = staff.get("/conversations").text
    # A: unreviewed emergency; B: unreviewed urgent; then by last activity: D, C (reviewed emergency), F, E
    assert _refs_in(html) == [r["A"], r["B"], r["D"], r["C"], r["F"], r["E"]]
    assert html.count('class="attention attention-emergency"') == 1
    assert html.count('class="attention attention-urgent"') == 1


def test_list_is_paginated(staff, seeded, db_url, db_connection) -> None:
    from console import demo

    rows = []
    for i in range(60):
        rows += demo.conversation_events(f"bulk-{i:03d}", NOW - timedelta(days=1, minutes=i), demo.SCENARIOS[4], "rest")
    demo.insert_events(db_connection, rows)
    catch_up(db_url)  # the consumer's work: page views never write summaries
    first = staff.get("/conversations").text
    assert len(_refs_in(first)) == 50 and "page 1 of 2" in first
    second = staff.get("/conversations?page=2").text
    assert len(_refs_in(second)) == 16
    assert not set(_refs_in(first)) & set(_refs_in(second))


def test_filters(staff, seeded) -> None:
    r = seeded["refs"]

    def refs(**args: str) -> set[str]:
        return set(_refs_in(staff.get("/conversations", query_string=args).text))

    assert refs(level="emergency") == {r["A"], r["C"]}
    assert refs(level="urgent") == {r["B"]}
    assert refs(channel="twilio") == {r["A"]}
    assert refs(channel="socketio") == {r["B"], r["E"]}
    assert refs(rule="SS-HUNTER") == {r["A"], r["C"]}
    assert refs(rule="ss-hunter") == {r["A"], r["C"]}
    assert refs(rule="COMBO-MAOI") == {r["B"]}  # from the recorded assessment and the slot
    assert refs(rule="SS") == set()  # whole rule ids only
    assert refs(reviewed="yes") == {r["C"]}
    assert r["C"] not in refs(reviewed="no") and len(refs(reviewed="no")) == 5
    assert refs(q="phenelzine") == {r["B"]}
    assert refs(q="BOUNCING") == {r["D"]}
    assert refs(q="ankle") == {r["D"], r["F"]}  # the assistant's words are searched too
    old = (NOW - timedelta(days=40)).date().isoformat()
    assert refs(**{"from": old, "to": old}) == {r["E"]}
    assert r["E"] not in refs(**{"from": (NOW - timedelta(days=7)).date().isoformat()})
    assert refs(level="emergency", reviewed="no", channel="twilio") == {r["A"]}
    assert refs(level="") == set(r.values())  # an empty filter (the form's "any") is no filter
    # an unknown value is refused with a message (it used to be ignored: a typo showed everything)
    bogus = staff.get("/conversations", query_string={"level": "bogus"})
    assert bogus.status_code == 400 and "level: one of" in bogus.text and not _refs_in(bogus.text)


def test_transcript_shows_messages_understanding_and_decisions(staff, seeded) -> None:
    html = staff.get(f"/conversations/{seeded['refs']['B']}").text
    assert "phenelzine and I still take sertraline" in html
    assert "intent <code>report_medication</code>" in html
    assert "<code>medication</code>=phenelzine" in html
    assert "· socketio" in html
    assert html.count('class="decision"') == 2  # the decision record and a triage row written without one
    assert '<code class="rule">COMBO-MAOI</code>' in html
    assert "You take phenelzine and sertraline together." in html
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d · patient", html)


def test_phone_numbers_are_masked_in_transcripts_and_list(staff, seeded) -> None:
    html = staff.get(f"/conversations/{seeded['refs']['A']}").text
    assert "+15555550123" not in html and "5550123" not in html
    assert "555-555-0199" not in html and "•99" in html
    assert "•23" in html
    listing = staff.get("/conversations").text
    assert "5550123" not in listing and "•23" in listing


def test_unknown_transcript_is_404(staff, seeded) -> None:
    assert staff.get("/conversations/ffffffffffffffffffff").status_code == 404
    assert staff.get("/conversations/" + "a" * 200).status_code == 404


def test_transcript_view_is_audited(staff, seeded, db_url) -> None:
    staff.get(f"/conversations/{seeded['refs']['B']}")
    rows = _audit(db_url, "transcript_view")
    assert [(a.actor, a.target) for a in rows] == [("sam.staff", seeded["refs"]["B"])]
    assert rows[0].at is not None


def test_mark_reviewed_and_back(staff, seeded, db_url) -> None:
    ref = seeded["refs"]["A"]
    resp = staff.post(f"/conversations/{ref}/review", data={"csrf_token": csrf(staff), "reviewed": "1"})
    assert resp.status_code == 302
    with db.session_scope(db_url, write=False) as s:
        row = s.get(ConversationReview, seeded["ids"]["A"])
        assert row.reviewed and row.reviewed_by == "sam.staff" and row.reviewed_at is not None
    html = staff.get("/conversations").text
    assert 'class="attention attention-emergency"' not in html  # no longer stands out
    assert _refs_in(html)[0] == seeded["refs"]["B"]
    staff.post(f"/conversations/{ref}/review", data={"csrf_token": csrf(staff), "reviewed": "0"})
    assert [a.action for a in _audit(db_url, "review_mark")] == ["review_mark"]
    assert [a.target for a in _audit(db_url, "review_unmark")] == [ref]
    assert _refs_in(staff.get("/conversations").text)[0] == ref


def test_add_note(staff, seeded, db_url) -> None:
    ref = seeded["refs"]["D"]
    staff.post(
        f"/conversations/{ref}/notes", data={"csrf_token": csrf(staff), "text": "Called back, booked for Tuesday."}
    )
    assert "Called back, booked for Tuesday." in staff.get(f"/conversations/{ref}").text
    with db.session_scope(db_url, write=False) as s:
        note = s.execute(sa.select(ReviewNote)).scalar_one()
        assert note.author == "sam.staff" and note.conversation_id == seeded["ids"]["D"]
    assert [a.detail["note_id"] for a in _audit(db_url, "note_add")] == [note.id]
    assert (
        staff.post(f"/conversations/{ref}/notes", data={"csrf_token": csrf(staff), "text": "x" * 5000}).status_code
        == 400
    )


def test_appointment_queue_and_status_changes(staff, seeded, db_url) -> None:
    html = staff.get("/appointments").text
    assert "+15555550142" in html  # staff call the person back: the number is shown in full
    assert f'href="/conversations/{seeded["refs"]["D"]}"' in html
    appt = seeded["appointment"]
    resp = staff.post(f"/appointments/{appt}/status", data={"csrf_token": csrf(staff), "status": "contacted"})
    assert resp.status_code == 302
    resp = staff.post(f"/appointments/{appt}/status", data={"csrf_token": csrf(staff), "status": "booked"})
    with db.session_scope(db_url, write=False) as s:
        assert s.get(AppointmentRequest, appt).status == "booked"
    assert [a.detail for a in _audit(db_url, "appointment_status")] == [
        {"from": "new", "to": "contacted"},
        {"from": "contacted", "to": "booked"},
    ]
    assert "+15555550142" not in staff.get("/appointments?status=open").text  # booked leaves the open queue
    assert "+15555550142" in staff.get("/appointments?status=booked").text
    assert (
        staff.post(f"/appointments/{appt}/status", data={"csrf_token": csrf(staff), "status": "lost"}).status_code
        == 400
    )
    assert (
        staff.post("/appointments/999999/status", data={"csrf_token": csrf(staff), "status": "booked"}).status_code
        == 404
    )


def test_dashboard(staff, seeded) -> None:
    html = staff.get("/dashboard").text
    numbers = {label: n for n, label in re.findall(r'<span class="n">(\d+)</span> ([a-z0-9 ]+?)(?:</a>|</li>)', html)}
    assert numbers["conversations"] == "6"
    assert numbers["emergencies not reviewed"] == "1"
    assert numbers["urgent not reviewed"] == "1"
    assert numbers["new appointment requests"] == "1"
    assert html.count('class="bar lvl-emergency"') >= 1 and "<svg" in html
    flags = re.findall(r"<code>([A-Z-]+)</code></a></td><td class=\"num\">(\d+)", html)
    assert flags[0] == ("SS-HUNTER", "2")


def test_export_csv_defuses_formulas_and_is_audited(staff, seeded, db_url, db_connection) -> None:
    from console import demo

    evil = demo.Scenario("evil", (("hi", "greet", [], "hello"),), None, ())
    demo.insert_events(db_connection, demo.conversation_events("=cmd|' /C calc'!A0", NOW, evil, "@SUM(1+1)"))
    catch_up(db_url)
    resp = staff.get("/export.csv", query_string={"level": "emergency"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert {r["ref"] for r in rows} == {seeded["refs"]["A"], seeded["refs"]["C"]}
    a = next(r for r in rows if r["ref"] == seeded["refs"]["A"])
    assert a["conversation"].startswith("'+") and "5550123" not in resp.text  # masked, and defused
    rows = list(csv.DictReader(io.StringIO(staff.get("/export.csv", query_string={"q": "hello"}).text)))
    evil_row = next(r for r in rows if r["channel"].startswith("'@"))
    assert evil_row["conversation"] == "'=cmd|' /C calc'!A0"
    for row in csv.reader(io.StringIO(staff.get("/export.csv").text)):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell
    audits = _audit(db_url, "export")
    assert audits[0].detail == {"format": "csv", "filters": {"level": "emergency"}, "rows": 2}


def test_export_json(staff, seeded, db_url) -> None:
    resp = staff.get("/export.json", query_string={"reviewed": "yes"})
    data = resp.json["conversations"]
    assert [d["ref"] for d in data] == [seeded["refs"]["C"]]
    assert data[0]["reviewed"] is True and data[0]["rule_ids"] == ["SS-HUNTER", "COMBO-HIGH-OPIOID"]
    assert data[0]["last_at"].endswith("+00:00")
    assert _audit(db_url, "export")[0].detail["format"] == "json"


def test_admin_manages_users(admin, db_url) -> None:
    t = csrf(admin)
    weak = {"csrf_token": t, "username": "new.nurse", "role": "staff", "password": "short"}
    resp = admin.post("/admin/users", data=weak)
    assert resp.status_code == 400 and "at least 12 characters" in resp.text
    assert "Injected" not in admin.get("/admin/users?error=Injected").text  # no message text from URLs
    resp = admin.post(
        "/admin/users",
        data={"csrf_token": t, "username": "new.nurse", "role": "staff", "password": "a good long passphrase"},
    )
    assert resp.headers["Location"].endswith("msg=user_created")
    assert "new.nurse" in admin.get("/admin/users").text
    creates = _audit(db_url, "user_create")
    assert [(a.actor, a.target, a.detail) for a in creates] == [("ada.admin", "user:new.nurse", {"role": "staff"})]
    from bot.db.models import StaffUser

    with db.session_scope(db_url, write=False) as s:
        uid = s.execute(sa.select(StaffUser.id).where(StaffUser.username == "new.nurse")).scalar_one()
        me = s.execute(sa.select(StaffUser.id).where(StaffUser.username == "ada.admin")).scalar_one()
    admin.post(f"/admin/users/{uid}", data={"csrf_token": t, "action": "role", "role": "admin"})
    assert _audit(db_url, "user_role")[0].detail == {"from": "staff", "to": "admin"}
    resp = admin.post(f"/admin/users/{me}", data={"csrf_token": t, "action": "disable"})
    assert resp.status_code == 400 and "cannot disable yourself" in resp.text  # no self-lock-out
    assert _audit(db_url, "user_disable") == []


def test_audit_log_page_lists_entries_newest_first(admin, seeded, db_url) -> None:
    admin.get(f"/conversations/{seeded['refs']['A']}")
    html = admin.get("/admin/audit").text
    assert html.index("<code>transcript_view</code>") < html.index("<code>sign_in</code>")
    filtered = admin.get("/admin/audit?action=sign_in").text
    assert "transcript_view</code>" not in filtered and "sign_in</code>" in filtered


def test_audit_log_has_no_route_to_change_it(app) -> None:
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods - {"HEAD", "OPTIONS"} == {"GET"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_console_works_before_rasa_created_its_table(fresh_db_url, backend: str) -> None:
    from console.app import create_app
    from tests.console.helpers import SECRET, UTC, sign_in

    url = fresh_db_url(backend, with_events=False)
    with db.session_scope(url) as s:
        from console import auth

        auth.create_user(s, "early.bird", "a long test passphrase", "staff")
    app = create_app(database_url=url, secret_key=SECRET, cookie_secure=True, timezone_=UTC)
    app.config["PREFERRED_URL_SCHEME"] = "https"
    client = app.test_client()
    assert sign_in(client, "early.bird").status_code == 302
    for path in ("/conversations", "/dashboard", "/appointments", "/export.json"):
        assert client.get(path).status_code == 200, path
