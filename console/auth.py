"""Staff accounts: argon2 password hashes, the password policy, server-side sessions (the cookie
holds a random token, the database its SHA-256) and CSRF tokens bound to the session. Throttling of
sign-in attempts is in console.throttle (there is no lock-out an outsider could trigger)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from bot.db.models import ROLES, StaffSession, StaffUser

UTC = timezone.utc  # noqa: UP017  (Python 3.10)
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=10)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # the sign-in form reads no more
MIN_PASSWORD_SCORE = 3  # zxcvbn's 0-4 scale: 3 is "safely unguessable" for an online attack
# zxcvbn is quadratic in the length; its authors check the first 100 characters of long inputs.
_ZXCVBN_CHARS = 100
_CONTEXT_WORDS = ("clonus", "clinic", "console", "staff", "admin", "neurology", "triage")

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_dummy_hash: str | None = None


def _dummy() -> str:
    """A hash to verify against when the username is unknown, so that both cases cost the same."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hash


class PasswordPolicyError(ValueError):
    pass


def check_password_policy(password: str, username: str = "") -> None:
    """At least 12 characters, not the username, not one of the common passwords of the lists that
    the zxcvbn package ships (30,000 leaked passwords, names, words), and hard enough to guess by
    zxcvbn's estimate (which also refuses repeats such as `aaaaaaaaaaaa`, keyboard walks and
    dates)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"password must have at most {MAX_PASSWORD_LENGTH} characters")
    if username and username.lower() in password.lower():
        raise PasswordPolicyError("password must not contain the username")
    if password.strip().lower() in _common_passwords():
        raise PasswordPolicyError("password is one of the most common passwords")
    result = zxcvbn(
        password[:_ZXCVBN_CHARS], user_inputs=[username, *_CONTEXT_WORDS] if username else list(_CONTEXT_WORDS)
    )
    if result["score"] < MIN_PASSWORD_SCORE:
        hint = result["feedback"].get("warning") or "it is too easy to guess"
        raise PasswordPolicyError(f"password is too easy to guess ({hint.rstrip('.')}); use a longer passphrase")


_common: frozenset[str] | None = None


def _common_passwords() -> frozenset[str]:
    global _common
    if _common is None:
        _common = frozenset(FREQUENCY_LISTS["passwords"])
    return _common


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def now() -> datetime:
    return datetime.now(UTC)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def create_user(s: Session, username: str, password: str, role: str = "staff") -> StaffUser:
    username = normalise_username(username)
    if not username or len(username) > 150 or not all(c.isalnum() or c in "._-@" for c in username):
        raise ValueError("username: 1-150 letters, digits or . _ - @")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    check_password_policy(password, username)
    if s.execute(sa.select(StaffUser.id).where(StaffUser.username == username)).first():
        raise ValueError(f"user {username!r} exists already")
    user = StaffUser(username=username, password_hash=hash_password(password), role=role)
    s.add(user)
    s.flush()
    return user


def set_active(s: Session, user: StaffUser, active: bool) -> None:
    user.is_active = active
    if not active:
        revoke_sessions(s, user.id)


def set_password(s: Session, user: StaffUser, password: str) -> None:
    """Change a password (the same policy as for new users); ends the user's sessions."""
    check_password_policy(password, user.username)
    user.password_hash = hash_password(password)
    revoke_sessions(s, user.id)


def revoke_sessions(s: Session, user_id: int) -> None:
    s.execute(
        sa.update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now())
    )


@dataclass
class LoginResult:
    user: StaffUser | None
    outcome: str  # ok | bad_credentials | disabled


def authenticate(s: Session, username: str, password: str) -> LoginResult:
    """Check a password. Never locks an account: repeated failures are slowed down per account and
    client by console.throttle, so that nobody can lock staff out by failing on purpose."""
    user = s.execute(
        sa.select(StaffUser).where(StaffUser.username == normalise_username(username))
    ).scalar_one_or_none()
    if user is None:
        verify_password(_dummy(), password)
        return LoginResult(None, "bad_credentials")
    if not verify_password(user.password_hash, password):
        return LoginResult(user, "bad_credentials")
    if not user.is_active:
        return LoginResult(user, "disabled")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return LoginResult(user, "ok")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(s: Session, user: StaffUser) -> str:
    token = secrets.token_urlsafe(32)
    s.add(StaffSession(token_hash=_token_hash(token), user_id=user.id, created_at=now(), last_seen_at=now()))
    return token


def end_session(s: Session, token: str) -> None:
    row = s.get(StaffSession, _token_hash(token))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now()


def session_user(
    s: Session,
    token: str | None,
    touch: bool = True,
    later: Callable[[Callable[[Session], None]], None] | None = None,
) -> StaffUser | None:
    """The active user of a session token, or None when missing, revoked, idle or too old.

    With `later` (a read-only request), what this changes (revoking an expired session, noting
    that it was used) is handed to `later` as a function to run in the request's write phase,
    instead of being written in the read transaction."""
    if not token or len(token) > 100:
        return None
    key = _token_hash(token)
    # the session and its user in one query (one round trip of every signed-in request)
    found = s.execute(
        sa.select(StaffSession, StaffUser)
        .outerjoin(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token_hash == key)
    ).first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None:
        return None
    t = now()
    if t - row.last_seen_at > IDLE_TIMEOUT or t - row.created_at > ABSOLUTE_TIMEOUT:
        _set_session(s, key, later, revoked_at=t)
        return None
    if user is None or not user.is_active:
        return None
    if touch and t - row.last_seen_at > timedelta(seconds=60):  # don't write on every request
        _set_session(s, key, later, last_seen_at=t)
    return user


def _set_session(
    s: Session, key: str, later: Callable[[Callable[[Session], None]], None] | None, **values: datetime
) -> None:
    if later is None:
        row = s.get(StaffSession, key)
        for name, value in values.items():
            setattr(row, name, value)
        return
    later(lambda ws: ws.execute(sa.update(StaffSession).where(StaffSession.token_hash == key).values(**values)))


def csrf_token(secret_key: str, session_token: str) -> str:
    """A CSRF token derived from the session (nothing to store; changes with every sign-in)."""
    return hmac.new(secret_key.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret_key: str, session_token: str | None, submitted: str | None) -> bool:
    if not session_token or not submitted:
        return False
    return hmac.compare_digest(csrf_token(secret_key, session_token), submitted)
