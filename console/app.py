"""The staff review console (Flask): sign-in, conversation list and transcripts, appointment queue,
dashboard, export, user management and audit log."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import traceback
from datetime import datetime, timezone, tzinfo
from typing import Any, Callable
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask, Response, abort, g, redirect, render_template, request, url_for
from pyrate_limiter import Duration, Rate
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.db.models import APPOINTMENT_STATUSES, LEVELS, ROLES
from bot.db.repository import audit
from console import auth, params, throttle
from console import conversations as conv
from console.privacy import display_conversation_id, mask_phones
from console.views import admin as admin_views
from console.views import alerts as alert_views
from console.views import appointments as appointment_views
from console.views import auth as auth_views
from console.views import conversations as conversation_views
from console.web import ANONYMOUS, ConsoleState, actor, client_ip, request_db, short_endpoint, state, too_many

log = logging.getLogger(__name__)

UTC = timezone.utc  # noqa: UP017  (Python 3.10)
SESSION_COOKIE = auth_views.SESSION_COOKIE
LOGIN_CSRF_COOKIE = auth_views.LOGIN_CSRF_COOKIE
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static"})
MAX_NOTE_LENGTH = conversation_views.MAX_NOTE_LENGTH
MAX_DB_ID = appointment_views.MAX_DB_ID
REF_PATTERN = re.compile(r"[0-9a-f]{1,32}")
__all__ = ["ANONYMOUS", "DATABASE_UNAVAILABLE", "LOGIN_CSRF_COOKIE", "SESSION_COOKIE", "create_app"]
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
    "alert_ack": "Alert acknowledged.",
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
        ALERT_STREAMS=max(1, int(os.environ.get("CONSOLE_ALERT_STREAMS") or 4)),
    )
    tz = timezone_ or _clinic_tz()

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

    app.extensions["clonus"] = ConsoleState(
        url=database_url,
        tz=tz,
        limit_anonymous=_limiter("anonymous", "CONSOLE_RATELIMIT_ANONYMOUS"),
        limit_signin=_limiter("signin", "CONSOLE_RATELIMIT_SIGNIN"),
        limit_user=_limiter("user", "CONSOLE_RATELIMIT_USER"),
        audit_budget=throttle.KeyedLimiter(
            "audit-refusals", [Rate(AUDITED_REFUSALS_PER_MINUTE, Duration.MINUTE)], storage
        ),
        audit_gap_note=throttle.KeyedLimiter("audit-gap", [Rate(1, Duration.MINUTE)], storage),
        database_ready=database_ready,
    )

    def fmt_time(value: datetime | None, with_seconds: bool = False) -> str:
        if value is None:
            return ""
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")

    app.jinja_env.filters["when"] = fmt_time
    app.jinja_env.filters["mask"] = mask_phones
    app.jinja_env.globals.update(LEVELS=LEVELS, STATUSES=APPOINTMENT_STATUSES, ROLES=ROLES, is_crisis=conv.is_crisis)
    app.context_processor(_context)

    app.before_request(_database_ready)
    for error_type in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_type, _database_unavailable)
    app.before_request(_authenticate)
    app.after_request(_headers)  # after_request functions run last-registered first:
    app.after_request(_finish)  # the queued writes, then the headers (also on a 503 from _finish)
    app.teardown_request(_close)
    app.register_error_handler(params.ParamError, _param_error)
    for code in (400, 401, 403, 404, 405, 413, 429):
        app.register_error_handler(code, _error)
    app.register_error_handler(500, _server_error)

    for bp in (auth_views.bp, conversation_views.bp, appointment_views.bp, admin_views.bp, alert_views.bp):
        app.register_blueprint(bp)
    return app


# --- every request --------------------------------------------------------------------------------


def _context() -> dict[str, Any]:
    from flask import current_app

    user = g.get("user")

    def csrf_field_value() -> str:
        token = g.get("session_token")
        return auth.csrf_token(current_app.config["SECRET_KEY"], token) if token else ""

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
        "tz_name": getattr(state().tz, "key", "UTC"),
    }


def audit_refusal(status: int, reason: str) -> None:
    """Every refused request goes to the audit log (at most AUDITED_REFUSALS_PER_MINUTE per
    client address and minute, then one entry saying that the rest were not recorded). Whatever
    the request did before it was refused is rolled back; the entry is written on its own."""
    st = state()
    ip = client_ip()
    ref = (request.view_args or {}).get("ref")
    detail = {
        "status": status,
        "reason": reason[:120],
        "method": request.method,
        "endpoint": short_endpoint(),
        "ip": ip,
    }
    action = "refused"
    if not st.audit_budget.hit(ip).allowed:
        if not st.audit_gap_note.hit(ip).allowed:
            request_db().discard()
            return
        action, detail = "refused_not_recorded", {"ip": ip, "per_minute": AUDITED_REFUSALS_PER_MINUTE}
    who = actor()
    target = ref if isinstance(ref, str) and REF_PATTERN.fullmatch(ref) else None
    try:
        request_db().write_now(lambda s: audit(s, who, action, target, detail))
    except Exception:  # noqa: BLE001  (the refusal stands even when the database is down)
        log.error("could not write the audit entry of a refused request (%s)", status)


def unavailable() -> Response:
    resp = Response(
        render_template("error.html", code=503, name="Service Unavailable", description=UNAVAILABLE_TEXT), 503
    )
    resp.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    return resp


def _database_ready() -> Any:
    ready = state().database_ready
    if request.endpoint != "static" and ready is not None and not ready():
        return unavailable()
    return None


def _database_unavailable(err: Exception) -> Any:
    # The error's type only: its message can quote a row (PostgreSQL's DETAIL).
    log.error("database unavailable on %s %s (%s): answered 503", request.method, request.endpoint, type(err).__name__)
    with contextlib.suppress(Exception):  # the connection is gone: closing it is all that is left
        request_db().discard()
    return unavailable()


def _authenticate() -> Any:
    from flask import current_app

    g.user = None
    g.session_token = None
    g.actor = None
    if request.endpoint == "static":
        return None
    st = state()
    secret_key = current_app.config["SECRET_KEY"]
    token = request.cookies.get(SESSION_COOKIE)
    user = None
    if token:
        rdb = request_db()
        u = auth.session_user(rdb.get(), token, later=None if rdb.write else rdb.later)
        if u is not None:
            user = {"id": u.id, "username": u.username, "role": u.role}
            g.actor = u.username  # who is refused, if this request is
    if user is not None:
        verdict = st.limit_user.hit(f"user:{user['id']}")
    else:
        # A browser that signed in before has its own budget: others at its address cannot use it up.
        device = throttle.read_device_cookie(secret_key, request.cookies.get(throttle.DEVICE_COOKIE))
        verdict = st.limit_anonymous.hit(f"device:{device[1]}" if device else f"ip:{client_ip()}")
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
            return redirect(url_for("auth.login", msg="expired"))
        abort(401, "Please sign in.")
    g.user = user
    g.session_token = token
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if not auth.csrf_valid(secret_key, token, request.form.get("csrf_token")):
            abort(400, "invalid or missing CSRF token")
    return None


def _finish(resp: Response) -> Response:
    """Commit the request's transaction and its queued writes (the audit entry of a page view)."""
    rdb = g.get("_clonus_db")
    if rdb is not None:
        try:
            rdb.finish()
        except DATABASE_UNAVAILABLE as err:
            return _database_unavailable(err)
    return resp


def _close(_exc: BaseException | None) -> None:
    rdb = g.pop("_clonus_db", None)
    if rdb is not None:
        rdb.close()


def _headers(resp: Response) -> Response:
    from flask import current_app

    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    resp.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.endpoint != "static":
        resp.headers["Cache-Control"] = "no-store"  # health information: never cached
    if current_app.config["COOKIE_SECURE"]:
        resp.headers["Strict-Transport-Security"] = "max-age=31536000"
    return resp


def _param_error(err: params.ParamError) -> Any:
    return _error(HTTPException(description=str(err)), 400)


def _error(err: Any, code: int | None = None) -> Any:
    code = code or getattr(err, "code", None) or 500
    name = {400: "Bad Request"}.get(code) or getattr(err, "name", "Error")
    # Descriptions are fixed texts of this app or of Werkzeug, never a value from the request.
    description = getattr(err, "description", None) or ""
    if code in (400, 401, 403, 429):
        audit_refusal(code, description or name)
    else:
        request_db().discard()
    resp = Response(render_template("error.html", code=code, name=name, description=description), code)
    if code == 429:
        resp.headers["Retry-After"] = str(getattr(err, "retry_after", None) or 60)
    return resp


def _server_error(err: Any) -> Any:
    rdb = g.get("_clonus_db")
    if rdb is not None:
        with contextlib.suppress(Exception):  # the error may be the database's
            rdb.discard()
    return render_template("error.html", code=500, name="Internal Server Error"), 500
