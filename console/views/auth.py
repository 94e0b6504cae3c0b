"""Sign-in and sign-out."""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, url_for

from bot.db.repository import audit
from console import auth, throttle
from console.web import client_ip, db, request_db, state, too_many

log = logging.getLogger("console.app")

bp = Blueprint("auth", __name__)

SESSION_COOKIE = "clonus_session"
LOGIN_CSRF_COOKIE = "clonus_login_csrf"


def set_cookie(resp: Response, name: str, value: str, max_age: int | None = None) -> None:
    resp.set_cookie(
        name,
        value,
        max_age=max_age,
        secure=current_app.config["COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",
        path="/",
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    status = 200
    st = state()
    if request.method == "POST":
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        form_token = request.form.get("csrf_token", "")
        if not cookie or not secrets.compare_digest(cookie, form_token):
            abort(400, "invalid or missing CSRF token")
        username = auth.normalise_username(request.form.get("username", "")[:150])
        password = request.form.get("password", "")[: auth.MAX_PASSWORD_LENGTH]
        secret_key = current_app.config["SECRET_KEY"]
        device_cookie = request.cookies.get(throttle.DEVICE_COOKIE)
        client = throttle.client_key(secret_key, username, device_cookie, client_ip())
        # per IP address, or per trusted browser when it signs in to its own account
        verdict = st.limit_signin.hit(client if client.startswith("device:") else f"ip:{client_ip()}")
        if not verdict.allowed:
            raise too_many(verdict, "sign-in attempts from this address")
        t = auth.now()
        s = db()
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
        # the failure's backoff and audit entry stand even when the answer is a refusal
        request_db().finish()
        if not verdict.allowed:
            raise too_many(verdict, "failed sign-ins for this account from this browser or address")
        if token:
            log.info("sign-in by user id %s", user_id)
            resp = redirect(url_for("conversations.conversations"))
            set_cookie(resp, SESSION_COOKIE, token)
            resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
            if not client.startswith("device:"):
                set_cookie(
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
    set_cookie(resp, LOGIN_CSRF_COOKIE, login_token, max_age=3600)
    return resp


@bp.post("/logout")
def logout() -> Any:
    s = db()
    auth.end_session(s, g.session_token)
    audit(s, g.user["username"], "sign_out")
    resp = redirect(url_for("auth.login", msg="signed_out"))
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp
