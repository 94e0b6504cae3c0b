"""Administration: staff users and the audit log (admins only)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from bot.db.models import ROLES, AuditLog, StaffUser
from bot.db.repository import audit
from console import auth, params, throttle
from console.web import admin_required, audit_view, db, page, request_db

bp = Blueprint("admin", __name__)

MAX_DB_ID = 2**31 - 1


def _users_page(error: str | None = None, status: int = 200) -> Any:
    if status != 200:
        request_db().discard()  # a refused change leaves nothing behind
    s = db()
    rows = list(s.execute(sa.select(StaffUser).order_by(StaffUser.username)).scalars())
    delayed = throttle.delayed_clients(s, auth.now())
    if status == 200:
        audit_view("users_view", None, {"users": len(rows)})
    return render_template("users.html", users=rows, delayed=delayed, error=error), status


@bp.get("/admin/users")
@admin_required
def users() -> Any:
    return _users_page()


@bp.post("/admin/users")
@admin_required
def create_user() -> Any:
    username = request.form.get("username", "")
    role = request.form.get("role", "staff")
    s = db()
    try:
        user = auth.create_user(s, username, request.form.get("password", ""), role)
        audit(s, g.user["username"], "user_create", f"user:{user.username}", {"role": role})
    except ValueError as exc:
        # shown on this response only: no message text travels in a URL
        return _users_page(str(exc)[:200], 400)
    return redirect(url_for("admin.users", msg="user_created"))


@bp.post("/admin/users/<int:user_id>")
@admin_required
def change_user(user_id: int) -> Any:
    if user_id > MAX_DB_ID:
        abort(404)
    action = request.form.get("action", "")
    s = db()
    user = s.get(StaffUser, user_id)
    if user is None:
        abort(404)
    if user.id == g.user["id"] and action in ("disable", "role"):
        return _users_page("You cannot disable yourself or change your own role.", 400)
    detail: dict[str, Any] = {}
    if action == "disable":
        auth.set_active(s, user, False)
    elif action == "enable":
        auth.set_active(s, user, True)
    elif action == "reset_delay":
        detail = {"clients": throttle.reset_account(s, user.username)}
    elif action == "role":
        role = request.form.get("role", "")
        if role not in ROLES:
            abort(400, "unknown role")
        detail = {"from": user.role, "to": role}
        user.role = role
        auth.revoke_sessions(s, user.id)
    else:
        abort(400, "unknown action")
    audit(s, g.user["username"], f"user_{action}", f"user:{user.username}", detail)
    return redirect(url_for("admin.users", msg="delay_reset" if action == "reset_delay" else "user_changed"))


@bp.get("/admin/audit")
@admin_required
def audit_log() -> Any:
    p = page()
    action = params.text(request.args, "action", 64) or ""
    actor = params.text(request.args, "actor", 150) or ""
    q = sa.select(AuditLog)
    if action:
        q = q.where(AuditLog.action == action)
    if actor:
        q = q.where(AuditLog.actor == actor)
    s = db()
    total = s.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()
    rows = list(s.execute(q.order_by(AuditLog.id.desc()).limit(100).offset((p - 1) * 100)).scalars())
    actions = [a for (a,) in s.execute(sa.select(AuditLog.action).distinct().order_by(AuditLog.action))]
    # who read the audit log (it lists who saw which conversation, and from which address)
    audit_view("audit_view", None, {"action": action, "actor": actor, "page": p})
    return render_template(
        "audit.html",
        rows=rows,
        total=total,
        page=p,
        pages=max(1, -(-total // 100)),
        action=action,
        actor=actor,
        actions=actions,
    )
