"""Live alerts: new emergency and urgent decisions (rows of `clonus_alert`, written by
console.consumer) streamed to signed-in staff by server-sent events, shown as a banner on every
page (static/console.js), acknowledged by one staff member for everyone.

The stream polls the (small, indexed) set of open alerts every ALERT_POLL_SECONDS and sends it
whenever it changes; it ends after ALERT_STREAM_SECONDS and the browser reconnects (EventSource),
so that a waitress thread is never held for long. At most ALERT_STREAMS streams are open at once;
past that a request gets the current alerts and an early reconnect (polling, in effect).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, g, redirect, request, url_for

import bot.db
from bot.db.models import Alert, ConversationSummary
from bot.db.repository import audit
from console import auth
from console.privacy import display_conversation_id
from console.web import audit_view, db, state

log = logging.getLogger("console.app")

bp = Blueprint("alerts", __name__)

MAX_DB_ID = 2**31 - 1
DEFAULTS = {"ALERT_POLL_SECONDS": 0.5, "ALERT_STREAM_SECONDS": 25.0, "ALERT_STREAMS": 4, "ALERT_RETRY_MS": 1000}
_streams: dict[int, threading.BoundedSemaphore] = {}
_streams_lock = threading.Lock()


def _config(name: str) -> Any:
    return current_app.config.get(name, DEFAULTS[name])


def _slots() -> threading.BoundedSemaphore:
    with _streams_lock:
        key = id(current_app._get_current_object())  # type: ignore[attr-defined]
        sem = _streams.get(key)
        if sem is None:
            sem = _streams[key] = threading.BoundedSemaphore(int(_config("ALERT_STREAMS")))
        return sem


def open_alerts(s: Any, role: str, tz: Any) -> list[dict[str, Any]]:
    """The alerts not yet acknowledged, newest first, as the banner shows them."""
    rows = s.execute(
        sa.select(Alert, ConversationSummary.ref)
        .outerjoin(ConversationSummary, ConversationSummary.conversation_id == Alert.conversation_id)
        .where(Alert.acknowledged_at.is_(None))
        .order_by(Alert.id.desc())
        .limit(20)
    ).all()
    return [
        {
            "id": a.id,
            "level": a.level,
            "ref": ref,
            "conversation": display_conversation_id(a.conversation_id, role, "list"),
            "at": a.at.astimezone(tz).strftime("%H:%M:%S"),
            "rules": [r for r in (a.rule_ids or "").split(",") if r],
        }
        for a, ref in rows
    ]


def _event(alerts: list[dict[str, Any]]) -> str:
    return "event: alerts\ndata: " + json.dumps({"alerts": alerts}, separators=(",", ":")) + "\n\n"


@bp.get("/alerts/stream")
def stream() -> Any:
    """Server-sent events: `alerts` with the open alerts, at once and whenever they change."""
    st = state()
    user = dict(g.user)
    first = open_alerts(db(), user["role"], st.tz)
    # who was shown which alert (they tie a triage level to a conversation)
    audit_view("alerts_stream", None, {"shown": [a["id"] for a in first]})
    poll, duration = float(_config("ALERT_POLL_SECONDS")), float(_config("ALERT_STREAM_SECONDS"))
    retry = int(_config("ALERT_RETRY_MS"))
    url, tz = st.url, st.tz
    sem = _slots()
    held = sem.acquire(blocking=False)

    def generate() -> Iterator[str]:
        try:
            yield f"retry: {retry if held else retry * 2}\n\n"
            yield _event(first)
            if not held:
                return  # too many streams open: the browser asks again shortly
            shown = {a["id"] for a in first}
            last = [a["id"] for a in first]
            ends = time.monotonic() + duration
            beat = time.monotonic()
            while time.monotonic() < ends:
                time.sleep(poll)
                try:
                    with bot.db.session_scope(url, write=False) as s:
                        now = open_alerts(s, user["role"], tz)
                    ids = [a["id"] for a in now]
                    new = [i for i in ids if i not in shown]
                    if new:
                        with bot.db.session_scope(url) as s:
                            audit(s, user["username"], "alerts_view", None, {"shown": new})
                        shown.update(new)
                except sa.exc.SQLAlchemyError as exc:
                    log.error("alert stream: database unavailable (%s)", type(exc).__name__)
                    return  # the browser reconnects; the reconnect answers 503 until it is back
                if ids != last:
                    last = ids
                    beat = time.monotonic()
                    yield _event(now)
                elif time.monotonic() - beat > 10:
                    beat = time.monotonic()
                    yield ": keep-alive\n\n"
        finally:
            if held:
                sem.release()

    resp = Response(generate(), mimetype="text/event-stream")
    resp.headers["X-Accel-Buffering"] = "no"  # a proxy in front must not buffer the stream
    return resp


@bp.post("/alerts/ack")
def ack() -> Any:
    """One staff member acknowledges an alert (form field `alert_id`): it leaves every banner; the
    audit log keeps who and when."""
    raw = request.form.get("alert_id", "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        abort(400, "alert_id: expected an alert number")
    alert_id = int(raw)
    if alert_id > MAX_DB_ID:
        abort(404)
    s = db()
    alert = s.get(Alert, alert_id)
    if alert is None:
        abort(404)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = auth.now()
        alert.acknowledged_by = g.user["username"]
        ref = s.execute(
            sa.select(ConversationSummary.ref).where(ConversationSummary.conversation_id == alert.conversation_id)
        ).scalar_one_or_none()
        audit(s, g.user["username"], "alert_ack", f"alert:{alert_id}", {"level": alert.level, "conversation": ref})
    if "application/json" in request.headers.get("Accept", ""):
        return Response(status=204)
    return redirect(url_for("conversations.conversations", msg="alert_ack"))
