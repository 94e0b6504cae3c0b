"""The appointment-request queue."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from bot.db import in_transcript
from bot.db.models import APPOINTMENT_STATUSES, AppointmentRequest, ConversationSummary
from bot.db.repository import audit
from console import conversations as conv
from console import params
from console.privacy import can_see_phone
from console.web import audit_view, db, page

bp = Blueprint("appointments", __name__)

MAX_DB_ID = 2**31 - 1  # larger ids in a URL are not found (PostgreSQL would refuse to compare them)


@bp.get("/appointments")
def appointments() -> Any:
    status = params.choice(request.args, "status", ("open", *APPOINTMENT_STATUSES, "all"), "open")
    p = page()
    ar, cs = AppointmentRequest, ConversationSummary
    q = sa.select(ar, cs.ref).outerjoin(cs, cs.conversation_id == ar.conversation_id)
    if status == "open":
        q = q.where(ar.status.in_(["new", "contacted"]))
    elif status != "all":
        q = q.where(ar.status == status)
    show_phone = can_see_phone(g.user["role"], "appointments")
    s = db()
    # Not a request whose turn the Rasa server refused to store (not in the transcript).
    q = q.where(in_transcript(ar, conv.events_table_exists(s)))
    total = s.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()
    rows = s.execute(q.order_by(ar.created_at.desc(), ar.id.desc()).limit(50).offset((p - 1) * 50)).all()
    # names and phone numbers: which requests each person was shown
    audit_view(
        "appointments_view",
        None,
        {"status": status, "page": p, "shown": [a.id for a, _ in rows], "phone_visible": show_phone},
    )
    return render_template(
        "appointments.html",
        rows=rows,
        status=status,
        total=total,
        page=p,
        pages=max(1, -(-total // 50)),
        show_phone=show_phone,
    )


@bp.post("/appointments/<int:appointment_id>/status")
def appointment_status(appointment_id: int) -> Any:
    if appointment_id > MAX_DB_ID:
        abort(404)
    new = request.form.get("status", "")
    if new not in APPOINTMENT_STATUSES:
        abort(400, "unknown status")
    s = db()
    row = s.get(AppointmentRequest, appointment_id)
    if row is None:
        abort(404)
    old = row.status
    if old != new:
        row.status = new
        audit(s, g.user["username"], "appointment_status", f"appointment:{appointment_id}", {"from": old, "to": new})
    back = params.choice(request.form, "back_status", ("open", *APPOINTMENT_STATUSES, "all"), "open")
    return redirect(url_for("appointments.appointments", status=back, msg="status"))
