"""The staff review console (Flask): sign-in, conversation list and transcripts, appointment queue,
dashboard, export, user management and audit log."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import traceback
from datetime import datetime, timezone, tzinfo
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask, Response, abort, g, redirect, render_template, request, url_for
from pyrate_limiter import Duration, Rate
from werkzeug.exceptions import HTTPException, TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.db import in_transcript, session_scope
from bot.db.models import (
    APPOINTMENT_STATUSES,
    LEVELS,
    ROLES,
    AppointmentRequest,
    AuditLog,
    ConversationReview,
    ConversationSummary,
    ReviewNote,
    StaffUser,
)
from bot.db.repository import audit
from console import auth, charts, export, params, throttle
from console import conversations as conv
from console.privacy import can_see_phone, display_conversation_id, mask_phones

log = logging.getLogger(__name__)

UTC = timezone.utc  # noqa: UP017  (Python 3.10)
SESSION_COOKIE = "clonus_session"
LOGIN_CSRF_COOKIE = "clonus_login_csrf"
PUBLIC_ENDPOINTS = frozenset({"login", "static"})
MAX_NOTE_LENGTH = 4000
MAX_DB_ID = 2**31 - 1  # larger ids in a URL are not found (PostgreSQL would refuse to compare them)
REF_PATTERN = re.compile(r"[0-9a-f]{1,32}")
ANONYMOUS = "(anonymous)"
# Defaults of the rate limits (each can be changed by its environment variable, same syntax).
RATE_DEFAULTS = {
    # every request without a session (sign-in page, redirects), per IP address or trusted browser
    "CONSOLE_RATELIMIT_ANONYMOUS": "60/minute;600/hour",
    # sign-in attempts (POST /login), per IP address, or per trusted browser for its own account
    "CONSOLE_RATELIMIT_SIGNIN": "10/minute;60/hour",
    # every request of a signed-in user
    "CONSOLE_RATELIMIT_USER": "600/minute",
}
# Refusals written to the audit log per client address and minute; past that, one entry says that
# the rest of that minute is not recorded one by one (so that a flood cannot fill the append-only log).
AUDITED_REFUSALS_PER_MINUTE = 30

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)

# Fixed texts for ?msg= after a redirect (nothing the user typed is echoed back this way).
MESSAGES = {
    "reviewed": "Marked as reviewed.",
    "unreviewed": "Marked as not reviewed.",
    "note": "Note added.",
    "status": "Status changed.",
    "user_created": "User created.",
    "user_changed": "User changed.",
    "signed_out": "You are signed out.",
    "delay_reset": "Sign-in delay reset.",
    "expired": "Please sign in.",
}


def _clinic_tz() -> tzinfo:
    try:
        from bot.settings import clinic

        return ZoneInfo(clinic().timezone)
    except Exception:  # noqa: BLE001  (a broken profile must not take the console down)
        log.warning("clinic time zone unavailable; showing times in UTC")
        return UTC


def secret_key_from_env() -> str:
    key = os.environ.get("CONSOLE_SECRET_KEY")
    if key:
        if len(key) < 32:
            raise SystemExit("CONSOLE_SECRET_KEY must have at least 32 characters")
        return key
    if os.environ.get("CONSOLE_ENV", "development") == "production":
        raise SystemExit("CONSOLE_SECRET_KEY is required when CONSOLE_ENV=production")
    log.warning(
        "CONSOLE_SECRET_KEY is not set: using a random key for this run (development only); set it in production"
    )
    return secrets.token_urlsafe(48)


#: Errors that mean the database cannot be reached or used now (SQLite locked or read-only,
#: PostgreSQL down or cut): the console answers 503 and keeps running until it is back.
DATABASE_UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, sa.exc.DisconnectionError)
UNAVAILABLE_TEXT = "The database is unavailable, try again shortly."
UNAVAILABLE_RETRY_AFTER = 5


class ConsoleFlask(Flask):
    def log_exception(self, exc_info: Any) -> None:
        """Log where an error happened, without its message: database errors can quote a row
        (PostgreSQL's DETAIL), and rows hold patient text and phone numbers."""
        exc_type, _exc, tb = exc_info
        frames = "".join(traceback.format_tb(tb)) if tb else ""
        name = exc_type.__name__ if exc_type else "error"
        self.logger.error("%s on %s %s\n%s", name, request.method, request.endpoint, frames)


def create_app(
    database_url: str | None = None,
    secret_key: str | None = None,
    cookie_secure: bool | None = None,
    timezone_: tzinfo | None = None,
    database_ready: Callable[[], bool] | None = None,
) -> Flask:
    """The console. `database_ready` (python -m console: False until the schema could be migrated,
    while the database is locked or down at start) makes every page a 503 until it is True."""
    app = ConsoleFlask(__name__)
    app.config.update(
        SECRET_KEY=secret_key or secret_key_from_env(),
        DATABASE_URL=database_url,
        COOKIE_SECURE=(
            cookie_secure if cookie_secure is not None else os.environ.get("CONSOLE_COOKIE_SECURE", "1") != "0"
        ),
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    tz = timezone_ or _clinic_tz()
    url = database_url

    # Behind N reverse proxies, the client's address is the N-th from the right in X-Forwarded-For;
    # without CONSOLE_TRUSTED_PROXIES the header is ignored (anyone could write it).
    trusted_proxies = int(os.environ.get("CONSOLE_TRUSTED_PROXIES", "0") or 0)
    if trusted_proxies < 0:
        raise SystemExit("CONSOLE_TRUSTED_PROXIES must be 0 or a positive number")
    if trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted_proxies)  # type: ignore[method-assign]

    storage = throttle.storage_from_env()

    def _limiter(name: str, var: str) -> throttle.KeyedLimiter:
        spec = os.environ.get(var) or RATE_DEFAULTS[var]
        try:
            rates = throttle.parse_rates(spec)
        except (ValueError, KeyError, AssertionError):
            raise SystemExit(f"{var}: expected e.g. 10/minute;60/hour") from None
        return throttle.KeyedLimiter(name, rates, storage)

    limit_anonymous = _limiter("anonymous", "CONSOLE_RATELIMIT_ANONYMOUS")
    limit_signin = _limiter("signin", "CONSOLE_RATELIMIT_SIGNIN")
    limit_user = _limiter("user", "CONSOLE_RATELIMIT_USER")
    audit_budget = throttle.KeyedLimiter(
        "audit-refusals", [Rate(AUDITED_REFUSALS_PER_MINUTE, Duration.MINUTE)], storage
    )
    audit_gap_note = throttle.KeyedLimiter("audit-gap", [Rate(1, Duration.MINUTE)], storage)

    def client_ip() -> str:
        return request.remote_addr or "unknown"

    def actor() -> str:
        return g.get("actor") or ANONYMOUS

    def audit_refusal(status: int, reason: str) -> None:
        """Every refused request goes to the audit log (at most AUDITED_REFUSALS_PER_MINUTE per
        client address and minute, then one entry saying that the rest were not recorded)."""
        ip = client_ip()
        ref = (request.view_args or {}).get("ref")
        detail = {
            "status": status,
            "reason": reason[:120],
            "method": request.method,
            "endpoint": request.endpoint,
            "ip": ip,
        }
        action = "refused"
        if not audit_budget.hit(ip).allowed:
            if not audit_gap_note.hit(ip).allowed:
                return
            action, detail = "refused_not_recorded", {"ip": ip, "per_minute": AUDITED_REFUSALS_PER_MINUTE}
        try:
            with session_scope(url) as s:
                audit(s, actor(), action, ref if isinstance(ref, str) and REF_PATTERN.fullmatch(ref) else None, detail)
        except Exception:  # noqa: BLE001  (the refusal stands even when the database is down)
            log.error("could not write the audit entry of a refused request (%s)", status)

    def too_many(verdict: throttle.Verdict, what: str) -> TooManyRequests:
        return TooManyRequests(
            description=f"Too many {what}. Try again in {verdict.retry_after} second{'s' if verdict.retry_after != 1 else ''}.",
            retry_after=verdict.retry_after,
        )

    # --- helpers ------------------------------------------------------------------------------

    def fmt_time(value: datetime | None, with_seconds: bool = False) -> str:
        if value is None:
            return ""
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")

    app.jinja_env.filters["when"] = fmt_time
    app.jinja_env.filters["mask"] = mask_phones
    app.jinja_env.globals.update(LEVELS=LEVELS, STATUSES=APPOINTMENT_STATUSES, ROLES=ROLES, is_crisis=conv.is_crisis)

    @app.context_processor
    def _context() -> dict[str, Any]:
        user = g.get("user")

        def csrf_field_value() -> str:
            token = g.get("session_token")
            return auth.csrf_token(app.config["SECRET_KEY"], token) if token else ""

        def conv_id(cid: str, where: str = "list") -> str:
            return display_conversation_id(cid, user["role"] if user else None, where)

        def page_url(**changes: Any) -> str:
            args = {k: v for k, v in request.args.items()}
            args.update({k: str(v) for k, v in changes.items()})
            return request.path + "?" + urlencode(args)

        return {
            "me": user,
            "csrf_token": csrf_field_value,
            "conv_id": conv_id,
            "page_url": page_url,
            "message": MESSAGES.get(request.args.get("msg", "")),
            "tz_name": getattr(tz, "key", "UTC"),
        }

    def _set_cookie(resp: Response, name: str, value: str, max_age: int | None = None) -> None:
        resp.set_cookie(
            name,
            value,
            max_age=max_age,
            secure=app.config["COOKIE_SECURE"],
            httponly=True,
            samesite="Strict",
            path="/",
        )

    def admin_required(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.user["role"] != "admin":
                abort(403)
            return view(*args, **kwargs)

        wrapper.admin_only = True  # type: ignore[attr-defined]
        return wrapper

    # --- every request ------------------------------------------------------------------------

    def unavailable() -> Response:
        resp = Response(
            render_template("error.html", code=503, name="Service Unavailable", description=UNAVAILABLE_TEXT), 503
        )
        resp.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
        return resp

    @app.before_request
    def _database_ready() -> Any:
        if request.endpoint != "static" and database_ready is not None and not database_ready():
            return unavailable()
        return None

    def _database_unavailable(err: Exception) -> Any:
        # The error's type only: its message can quote a row (PostgreSQL's DETAIL).
        log.error("database unavailable on %s %s (%s): answered 503", request.method, request.endpoint, type(err).__name__)
        return unavailable()

    for _error_type in DATABASE_UNAVAILABLE:
        app.register_error_handler(_error_type, _database_unavailable)

    @app.before_request
    def _authenticate() -> Any:
        g.user = None
        g.session_token = None
        g.actor = None
        if request.endpoint == "static":
            return None
        token = request.cookies.get(SESSION_COOKIE)
        user = None
        if token:
            with session_scope(url) as s:
                u = auth.session_user(s, token)
                if u is not None:
                    user = {"id": u.id, "username": u.username, "role": u.role}
                    g.actor = u.username  # who is refused, if this request is
        if user is not None:
            verdict = limit_user.hit(f"user:{user['id']}")
        else:
            # A browser that signed in before has its own budget: others at its address cannot use it up.
            device = throttle.read_device_cookie(app.config["SECRET_KEY"], request.cookies.get(throttle.DEVICE_COOKIE))
            verdict = limit_anonymous.hit(f"device:{device[1]}" if device else f"ip:{client_ip()}")
        if not verdict.allowed:
            raise too_many(verdict, "requests")
        for key, value in (*request.args.items(multi=True), *request.form.items(multi=True)):
            if params.has_control_chars(key) or params.has_control_chars(value):
                abort(400, "control characters are not allowed in parameters")
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if user is not None and request.routing_exception is not None:
            return None  # a signed-in user gets the real 404 or 405
        if user is None:
            if request.method == "GET":
                if request.endpoint is not None:  # a page of the console, not a stray path
                    audit_refusal(401, "not signed in (sent to the sign-in page)")
                return redirect(url_for("login", msg="expired"))
            abort(401, "Please sign in.")
        g.user = user
        g.session_token = token
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            if not auth.csrf_valid(app.config["SECRET_KEY"], token, request.form.get("csrf_token")):
                abort(400, "invalid or missing CSRF token")
        return None

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        resp.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if request.endpoint != "static":
            resp.headers["Cache-Control"] = "no-store"  # health information: never cached
        if app.config["COOKIE_SECURE"]:
            resp.headers["Strict-Transport-Security"] = "max-age=31536000"
        return resp

    @app.errorhandler(params.ParamError)
    def _param_error(err: params.ParamError) -> Any:
        return _error(HTTPException(description=str(err)), 400)

    @app.errorhandler(400)
    @app.errorhandler(401)
    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(413)
    @app.errorhandler(429)
    def _error(err: Any, code: int | None = None) -> Any:
        code = code or getattr(err, "code", None) or 500
        name = {400: "Bad Request"}.get(code) or getattr(err, "name", "Error")
        # Descriptions are fixed texts of this app or of Werkzeug, never a value from the request.
        description = getattr(err, "description", None) or ""
        if code in (400, 401, 403, 429):
            audit_refusal(code, description or name)
        resp = Response(render_template("error.html", code=code, name=name, description=description), code)
        if code == 429:
            resp.headers["Retry-After"] = str(getattr(err, "retry_after", None) or 60)
        return resp

    @app.errorhandler(500)
    def _server_error(err: Any) -> Any:
        return render_template("error.html", code=500, name="Internal Server Error"), 500

    # --- sign-in ------------------------------------------------------------------------------

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        error = None
        status = 200
        if request.method == "POST":
            cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
            form_token = request.form.get("csrf_token", "")
            if not cookie or not secrets.compare_digest(cookie, form_token):
                abort(400, "invalid or missing CSRF token")
            username = auth.normalise_username(request.form.get("username", "")[:150])
            password = request.form.get("password", "")[: auth.MAX_PASSWORD_LENGTH]
            secret_key = app.config["SECRET_KEY"]
            device_cookie = request.cookies.get(throttle.DEVICE_COOKIE)
            client = throttle.client_key(secret_key, username, device_cookie, client_ip())
            # per IP address, or per trusted browser when it signs in to its own account
            verdict = limit_signin.hit(client if client.startswith("device:") else f"ip:{client_ip()}")
            if not verdict.allowed:
                raise too_many(verdict, "sign-in attempts from this address")
            t = auth.now()
            with session_scope(url) as s:
                verdict = throttle.check_backoff(s, username, client, t)
                if verdict.allowed:
                    result = auth.authenticate(s, username, password)
                    user_id = result.user.id if result.user is not None else None
                    if result.outcome == "ok" and result.user is not None:
                        throttle.record_success(s, username, client)
                        token = auth.start_session(s, result.user)
                        audit(s, result.user.username, "sign_in", None, {"ip": client_ip()})
                    else:
                        token = None
                        failures = throttle.record_failure(s, username, client, t)
                        audit(
                            s,
                            username or "(empty)",
                            f"sign_in_{result.outcome}",
                            None,
                            {"ip": client_ip(), "failures": failures, "trusted_browser": client.startswith("device:")},
                        )
            if not verdict.allowed:
                raise too_many(verdict, "failed sign-ins for this account from this browser or address")
            if token:
                log.info("sign-in by user id %s", user_id)
                resp = redirect(url_for("conversations"))
                _set_cookie(resp, SESSION_COOKIE, token)
                resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
                if not client.startswith("device:"):
                    _set_cookie(
                        resp,
                        throttle.DEVICE_COOKIE,
                        throttle.issue_device_cookie(secret_key, username),
                        max_age=throttle.DEVICE_COOKIE_MAX_AGE,
                    )
                return resp
            # One message for every failure, so that usernames cannot be probed.
            error = "Sign-in failed: wrong username or password, or the account is disabled."
            status = 401
        # Keep a well-formed token from an earlier visit: a second tab, or the browser fetching
        # /favicon.ico (redirected here), must not invalidate the form already on screen.
        login_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not re.fullmatch(r"[A-Za-z0-9_-]{43}", login_token):
            login_token = secrets.token_urlsafe(32)
        resp = Response(render_template("login.html", error=error, login_csrf=login_token), status)
        _set_cookie(resp, LOGIN_CSRF_COOKIE, login_token, max_age=3600)
        return resp

    @app.post("/logout")
    def logout() -> Any:
        with session_scope(url) as s:
            auth.end_session(s, g.session_token)
            audit(s, g.user["username"], "sign_out")
        resp = redirect(url_for("login", msg="signed_out"))
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    # --- conversations ------------------------------------------------------------------------

    @app.get("/")
    def index() -> Any:
        return redirect(url_for("conversations"))

    def _page() -> int:
        return params.page(request.args)

    def _audit_filters(f: conv.Filters) -> dict[str, Any]:
        return f.for_audit(app.config["SECRET_KEY"])

    @app.get("/conversations")
    def conversations() -> Any:
        f = conv.Filters.from_args(request.args)
        page = _page()
        conv.sync_summaries(url)
        with session_scope(url) as s:
            rows, total = conv.list_conversations(s, f, tz, page)
            chans = conv.channels(s)
            # The list ties triage levels to (masked) conversation ids: who saw which is recorded.
            # With any filter it is a search, recorded with its filters (the text only as a hash).
            audit(
                s,
                g.user["username"],
                "search" if f.as_args() else "conversation_list",
                None,
                {"filters": _audit_filters(f), "page": page, "rows": total, "shown": [r.ref for r in rows]},
            )
        pages = max(1, -(-total // conv.PAGE_SIZE))
        return render_template(
            "conversations.html",
            rows=rows,
            total=total,
            page=page,
            pages=pages,
            f=f,
            filter_args=f.as_args(),
            channels=chans,
        )

    @app.get("/conversations/<ref>")
    def transcript(ref: str) -> Any:
        if not REF_PATTERN.fullmatch(ref):
            abort(404)
        with session_scope(url) as s:
            t = conv.transcript(s, ref)
            if t is None:
                abort(404)
            audit(s, g.user["username"], "transcript_view", ref)
            html = render_template("transcript.html", t=t, ref=ref)
        log.info("transcript %s viewed by user id %s", ref, g.user["id"])
        return html

    def _summary_or_404(s: Any, ref: str) -> ConversationSummary:
        summary = conv.summary_by_ref(s, ref) if REF_PATTERN.fullmatch(ref) else None
        if summary is None:
            abort(404)
        return summary

    @app.post("/conversations/<ref>/review")
    def review(ref: str) -> Any:
        reviewed = request.form.get("reviewed", "1") == "1"
        with session_scope(url) as s:
            summary = _summary_or_404(s, ref)
            row = s.get(ConversationReview, summary.conversation_id)
            if row is None:
                row = ConversationReview(conversation_id=summary.conversation_id)
                s.add(row)
            row.reviewed = reviewed
            row.reviewed_by = g.user["username"] if reviewed else None
            row.reviewed_at = auth.now() if reviewed else None
            audit(s, g.user["username"], "review_mark" if reviewed else "review_unmark", ref)
        return redirect(url_for("transcript", ref=ref, msg="reviewed" if reviewed else "unreviewed"))

    @app.post("/conversations/<ref>/notes")
    def add_note(ref: str) -> Any:
        text = request.form.get("text", "").strip()
        if not text:
            return redirect(url_for("transcript", ref=ref))
        if len(text) > MAX_NOTE_LENGTH:
            abort(400, "note too long")
        with session_scope(url) as s:
            summary = _summary_or_404(s, ref)
            note = ReviewNote(conversation_id=summary.conversation_id, author=g.user["username"], text=text)
            s.add(note)
            s.flush()
            audit(s, g.user["username"], "note_add", ref, {"note_id": note.id})
        return redirect(url_for("transcript", ref=ref, msg="note"))

    # --- export -------------------------------------------------------------------------------

    def _export_rows(fmt: str) -> list[dict[str, Any]]:
        f = conv.Filters.from_args(request.args)
        conv.sync_summaries(url)
        with session_scope(url) as s:
            rows = conv.iter_filtered(s, f, tz)
            audit(
                s,
                g.user["username"],
                "export",
                None,
                {"format": fmt, "filters": _audit_filters(f), "rows": len(rows)},
            )
        return export.records(rows, g.user["role"])

    def _filename(ext: str) -> str:
        return f"clonus-conversations-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.{ext}"

    @app.get("/export.csv")
    def export_csv() -> Any:
        rows = _export_rows("csv")
        buf = io.StringIO()
        export.write_csv(rows, buf)
        return Response(
            buf.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{_filename("csv")}"'},
        )

    @app.get("/export.json")
    def export_json() -> Any:
        rows = _export_rows("json")
        return Response(
            json.dumps({"conversations": rows}, ensure_ascii=False, indent=1),
            mimetype="application/json",
            headers={"Content-Disposition": f'attachment; filename="{_filename("json")}"'},
        )

    # --- appointments -------------------------------------------------------------------------

    @app.get("/appointments")
    def appointments() -> Any:
        status = params.choice(request.args, "status", ("open", *APPOINTMENT_STATUSES, "all"), "open")
        page = _page()
        conv.sync_summaries(url)
        ar, cs = AppointmentRequest, ConversationSummary
        q = sa.select(ar, cs.ref).outerjoin(cs, cs.conversation_id == ar.conversation_id)
        if status == "open":
            q = q.where(ar.status.in_(["new", "contacted"]))
        elif status != "all":
            q = q.where(ar.status == status)
        show_phone = can_see_phone(g.user["role"], "appointments")
        with session_scope(url) as s:
            # Not a request whose turn the Rasa server refused to store (not in the transcript).
            q = q.where(in_transcript(ar, conv.events_table_exists(s)))
            total = s.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()
            rows = s.execute(q.order_by(ar.created_at.desc(), ar.id.desc()).limit(50).offset((page - 1) * 50)).all()
            s.expunge_all()  # before the audit entry is added: expunge_all would drop it too
            # names and phone numbers: which requests each person was shown
            audit(
                s,
                g.user["username"],
                "appointments_view",
                None,
                {"status": status, "page": page, "shown": [a.id for a, _ in rows], "phone_visible": show_phone},
            )
        return render_template(
            "appointments.html",
            rows=rows,
            status=status,
            total=total,
            page=page,
            pages=max(1, -(-total // 50)),
            show_phone=show_phone,
        )

    @app.post("/appointments/<int:appointment_id>/status")
    def appointment_status(appointment_id: int) -> Any:
        if appointment_id > MAX_DB_ID:
            abort(404)
        new = request.form.get("status", "")
        if new not in APPOINTMENT_STATUSES:
            abort(400, "unknown status")
        with session_scope(url) as s:
            row = s.get(AppointmentRequest, appointment_id)
            if row is None:
                abort(404)
            old = row.status
            if old != new:
                row.status = new
                audit(
                    s,
                    g.user["username"],
                    "appointment_status",
                    f"appointment:{appointment_id}",
                    {"from": old, "to": new},
                )
        back = params.choice(request.form, "back_status", ("open", *APPOINTMENT_STATUSES, "all"), "open")
        return redirect(url_for("appointments", status=back, msg="status"))

    # --- dashboard ----------------------------------------------------------------------------

    @app.get("/dashboard")
    def dashboard() -> Any:
        conv.sync_summaries(url)
        with session_scope(url, write=False) as s:
            d = conv.dashboard(s, tz)
        return render_template("dashboard.html", d=d, chart=charts.levels_per_day(d.days, d.per_day))

    # --- admin --------------------------------------------------------------------------------

    def _users_page(error: str | None = None, status: int = 200) -> Any:
        with session_scope(url) as s:
            rows = list(s.execute(sa.select(StaffUser).order_by(StaffUser.username)).scalars())
            delayed = throttle.delayed_clients(s, auth.now())
            s.expunge_all()
            if status == 200:
                audit(s, g.user["username"], "users_view", None, {"users": len(rows)})
        return render_template("users.html", users=rows, delayed=delayed, error=error), status

    @app.get("/admin/users")
    @admin_required
    def users() -> Any:
        return _users_page()

    @app.post("/admin/users")
    @admin_required
    def create_user() -> Any:
        username = request.form.get("username", "")
        role = request.form.get("role", "staff")
        try:
            with session_scope(url) as s:
                user = auth.create_user(s, username, request.form.get("password", ""), role)
                audit(s, g.user["username"], "user_create", f"user:{user.username}", {"role": role})
        except ValueError as exc:
            # shown on this response only: no message text travels in a URL
            return _users_page(str(exc)[:200], 400)
        return redirect(url_for("users", msg="user_created"))

    @app.post("/admin/users/<int:user_id>")
    @admin_required
    def change_user(user_id: int) -> Any:
        if user_id > MAX_DB_ID:
            abort(404)
        action = request.form.get("action", "")
        with session_scope(url) as s:
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
        return redirect(url_for("users", msg="delay_reset" if action == "reset_delay" else "user_changed"))

    @app.get("/admin/audit")
    @admin_required
    def audit_log() -> Any:
        page = _page()
        action = params.text(request.args, "action", 64) or ""
        actor = params.text(request.args, "actor", 150) or ""
        q = sa.select(AuditLog)
        if action:
            q = q.where(AuditLog.action == action)
        if actor:
            q = q.where(AuditLog.actor == actor)
        with session_scope(url) as s:
            total = s.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()
            rows = list(s.execute(q.order_by(AuditLog.id.desc()).limit(100).offset((page - 1) * 100)).scalars())
            actions = [a for (a,) in s.execute(sa.select(AuditLog.action).distinct().order_by(AuditLog.action))]
            s.expunge_all()
            # who read the audit log (it lists who saw which conversation, and from which address)
            audit(s, g.user["username"], "audit_view", None, {"action": action, "actor": actor, "page": page})
        return render_template(
            "audit.html",
            rows=rows,
            total=total,
            page=page,
            pages=max(1, -(-total // 100)),
            action=action,
            actor=actor,
            actions=actions,
        )

    return app
