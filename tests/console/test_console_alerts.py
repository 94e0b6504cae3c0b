"""Live alerts (issue 11): the consumer's alert rows reach signed-in staff by server-sent events;
one acknowledgement (CSRF, audited) takes the alert off every banner."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

import bot.db as db
from bot.db.models import Alert, AuditLog
from console import demo
from console.consumer import catch_up
from tests.console.helpers import NOW, SMS_SENDER, csrf


@pytest.fixture
def fast_stream(app):  # type: ignore[no-untyped-def]
    app.config.update(ALERT_POLL_SECONDS=0.05, ALERT_STREAM_SECONDS=0.3)
    return app


def _events(body: str) -> list[list[dict]]:
    return [json.loads(m)["alerts"] for m in re.findall(r"^event: alerts\ndata: (.*)$", body, flags=re.M)]


def _audit(db_url: str, action: str) -> list[AuditLog]:
    with db.session_scope(db_url, write=False) as s:
        rows = list(s.execute(sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).scalars())
        s.expunge_all()
        return rows


def _emergency(db_connection, db_url: str, sender: str = SMS_SENDER) -> int:  # type: ignore[no-untyped-def]
    demo.insert_events(db_connection, demo.conversation_events(sender, NOW - timedelta(minutes=2), demo.SCENARIOS[0], "twilio"))
    catch_up(db_url)
    with db.session_scope(db_url, write=False) as s:
        return s.execute(sa.select(Alert.id).where(Alert.conversation_id == sender)).scalar_one()


def test_the_stream_needs_a_session(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    resp = client.get("/alerts/stream")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    assert client.post("/alerts/ack", data={"alert_id": "1", "csrf_token": "x"}).status_code == 401


def test_staff_see_a_new_emergency_on_the_stream(fast_stream, staff, db_url, db_connection) -> None:  # type: ignore[no-untyped-def]
    alert_id = _emergency(db_connection, db_url)
    resp = staff.get("/alerts/stream")
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    assert resp.headers["Cache-Control"] == "no-store"
    body = resp.get_data(as_text=True)
    first = _events(body)[0]
    assert [(a["id"], a["level"]) for a in first] == [(alert_id, "emergency")]
    assert "SS-HUNTER" in first[0]["rules"] and first[0]["ref"]
    assert first[0]["conversation"].endswith("23") and "5550123" not in body  # masked for staff
    assert "zoloft" not in body  # no message text
    (row,) = _audit(db_url, "alerts_stream")
    assert row.actor == "sam.staff" and row.detail["shown"] == [alert_id]


def test_an_alert_arriving_while_the_stream_is_open_is_pushed(app, staff, db_url, db_connection) -> None:  # type: ignore[no-untyped-def]
    app.config.update(ALERT_POLL_SECONDS=0.05, ALERT_STREAM_SECONDS=5)
    resp = staff.get("/alerts/stream", buffered=False)
    chunks = iter(resp.response)
    assert next(chunks).startswith(b"retry:")
    assert _events(next(chunks).decode()) == [[]]  # nothing open yet
    alert_id = _emergency(db_connection, db_url, "conv-live")
    pushed = _events(next(chunks).decode())
    assert [a["id"] for a in pushed[0]] == [alert_id]
    resp.close()
    assert _audit(db_url, "alerts_view")[-1].detail["shown"] == [alert_id]


def test_an_acknowledgement_clears_the_alert_for_everyone(fast_stream, staff, admin, db_url, db_connection) -> None:  # type: ignore[no-untyped-def]
    alert_id = _emergency(db_connection, db_url)
    assert staff.post("/alerts/ack", data={"alert_id": str(alert_id)}).status_code == 400  # no CSRF token
    resp = staff.post("/alerts/ack", data={"alert_id": str(alert_id), "csrf_token": csrf(staff)}, headers={"Accept": "application/json"})
    assert resp.status_code == 204
    with db.session_scope(db_url, write=False) as s:
        a = s.get(Alert, alert_id)
        assert a.acknowledged_by == "sam.staff" and a.acknowledged_at is not None
    (row,) = _audit(db_url, "alert_ack")
    assert row.actor == "sam.staff" and row.target == f"alert:{alert_id}" and row.detail["level"] == "emergency"
    # gone from the other staff member's banner too
    assert _events(admin.get("/alerts/stream").get_data(as_text=True))[0] == []
    # a second acknowledgement (another tab, the other person at the same moment) changes nothing
    again = admin.post("/alerts/ack", data={"alert_id": str(alert_id), "csrf_token": csrf(admin)})
    assert again.status_code == 302
    assert len(_audit(db_url, "alert_ack")) == 1
    with db.session_scope(db_url, write=False) as s:
        assert s.get(Alert, alert_id).acknowledged_by == "sam.staff"


def test_acknowledging_nothing_or_nonsense_is_refused(staff) -> None:  # type: ignore[no-untyped-def]
    token = csrf(staff)
    for value in ("", "x", "-1", "1e3", "١"):
        assert staff.post("/alerts/ack", data={"alert_id": value, "csrf_token": token}).status_code == 400
    assert staff.post("/alerts/ack", data={"alert_id": "99999", "csrf_token": token}).status_code == 404
    assert staff.post("/alerts/ack", data={"alert_id": str(2**31), "csrf_token": token}).status_code == 404


def test_every_page_carries_the_alert_banner(staff, admin) -> None:  # type: ignore[no-untyped-def]
    for client, path in ((staff, "/conversations"), (staff, "/appointments"), (staff, "/dashboard"), (admin, "/admin/audit")):
        html = client.get(path).text
        assert 'id="alerts"' in html and 'data-stream="/alerts/stream"' in html, path
    assert 'id="alerts"' not in staff.application.test_client().get("/login").text
