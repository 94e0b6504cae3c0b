"""Conversations: the list and its search, transcripts, review marks, notes, export, dashboard."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, url_for

from bot.db.models import ConversationReview, ConversationSummary, ReviewNote
from bot.db.repository import audit
from console import auth, charts, export
from console import conversations as conv
from console.web import audit_view, db, page, state

log = logging.getLogger("console.app")

bp = Blueprint("conversations", __name__)

UTC = timezone.utc  # noqa: UP017  (Python 3.10)
MAX_NOTE_LENGTH = 4000
REF_PATTERN = __import__("re").compile(r"[0-9a-f]{1,32}")


def _audit_filters(f: conv.Filters) -> dict[str, Any]:
    return f.for_audit(current_app.config["SECRET_KEY"])


@bp.get("/")
def index() -> Any:
    return redirect(url_for("conversations.conversations"))


@bp.get("/conversations")
def conversations() -> Any:
    f = conv.Filters.from_args(request.args)
    p = page()
    s = db()
    listed = conv.list_conversations(s, f, state().tz, p)
    rows, total = listed.rows, listed.total
    chans = conv.channels(s)
    # The list ties triage levels to (masked) conversation ids: who saw which is recorded.
    # With any filter it is a search, recorded with its filters (the text only as a hash).
    detail = {"filters": _audit_filters(f), "page": p, "rows": total, "shown": [r.ref for r in rows]}
    if listed.more:
        detail["rows_more"] = True  # more than `rows` match (counted up to conv.COUNT_CAP)
    audit_view("search" if f.as_args() else "conversation_list", None, detail)
    pages = max(1, -(-total // conv.PAGE_SIZE))
    if listed.more:  # a full page has a next one, as far as anyone knows
        pages = max(pages, p + 1) if len(rows) == conv.PAGE_SIZE else p
    return render_template(
        "conversations.html",
        rows=rows,
        total=total,
        more=listed.more,
        page=p,
        pages=pages,
        f=f,
        filter_args=f.as_args(),
        channels=chans,
    )


@bp.get("/conversations/<ref>")
def transcript(ref: str) -> Any:
    if not REF_PATTERN.fullmatch(ref):
        abort(404)
    t = conv.transcript(db(), ref)
    if t is None:
        abort(404)
    audit_view("transcript_view", ref)
    html = render_template("transcript.html", t=t, ref=ref)
    log.info("transcript %s viewed by user id %s", ref, g.user["id"])
    return html


def _summary_or_404(ref: str) -> ConversationSummary:
    summary = conv.summary_by_ref(db(), ref) if REF_PATTERN.fullmatch(ref) else None
    if summary is None:
        abort(404)
    return summary


@bp.post("/conversations/<ref>/review")
def review(ref: str) -> Any:
    reviewed = request.form.get("reviewed", "1") == "1"
    s = db()
    summary = _summary_or_404(ref)
    row = s.get(ConversationReview, summary.conversation_id)
    if row is None:
        row = ConversationReview(conversation_id=summary.conversation_id)
        s.add(row)
    row.reviewed = reviewed
    row.reviewed_by = g.user["username"] if reviewed else None
    row.reviewed_at = auth.now() if reviewed else None
    audit(s, g.user["username"], "review_mark" if reviewed else "review_unmark", ref)
    return redirect(url_for("conversations.transcript", ref=ref, msg="reviewed" if reviewed else "unreviewed"))


@bp.post("/conversations/<ref>/notes")
def add_note(ref: str) -> Any:
    text = request.form.get("text", "").strip()
    if not text:
        return redirect(url_for("conversations.transcript", ref=ref))
    if len(text) > MAX_NOTE_LENGTH:
        abort(400, "note too long")
    s = db()
    summary = _summary_or_404(ref)
    note = ReviewNote(conversation_id=summary.conversation_id, author=g.user["username"], text=text)
    s.add(note)
    s.flush()
    audit(s, g.user["username"], "note_add", ref, {"note_id": note.id})
    return redirect(url_for("conversations.transcript", ref=ref, msg="note"))


# --- export -------------------------------------------------------------------------------------


def _export_rows(fmt: str) -> list[dict[str, Any]]:
    f = conv.Filters.from_args(request.args)
    rows = conv.iter_filtered(db(), f, state().tz)
    audit_view("export", None, {"format": fmt, "filters": _audit_filters(f), "rows": len(rows)})
    return export.records(rows, g.user["role"])


def _filename(ext: str) -> str:
    return f"clonus-conversations-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.{ext}"


@bp.get("/export.csv")
def export_csv() -> Any:
    rows = _export_rows("csv")
    buf = io.StringIO()
    export.write_csv(rows, buf)
    return Response(
        buf.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_filename("csv")}"'},
    )


@bp.get("/export.json")
def export_json() -> Any:
    rows = _export_rows("json")
    return Response(
        json.dumps({"conversations": rows}, ensure_ascii=False, indent=1),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{_filename("json")}"'},
    )


# --- dashboard ----------------------------------------------------------------------------------


@bp.get("/dashboard")
def dashboard() -> Any:
    d = conv.dashboard(db(), state().tz)
    return render_template("dashboard.html", d=d, chart=charts.levels_per_day(d.days, d.per_day))
