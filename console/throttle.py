"""Throttling of the console that an outsider cannot turn against the staff.

Two mechanisms, neither of which locks an account:

* **Rate limits per client** (`KeyedLimiter`): requests per IP address (or per signed-in user, or
  per trusted browser) over a sliding budget, with the GCRA algorithm of the `pyrate-limiter`
  package. The state lives in process memory by default, or in Redis when
  `CONSOLE_RATELIMIT_STORAGE=redis://host:6379/0`, so that several console processes share it.
  (Flask-Limiter was the first choice, but every release of its `limits` backend needs
  `packaging>=21` and Rasa 3.6 pins `packaging<21` in the same environment.)

* **Exponential back-off per account and client** (`check_backoff` / `record_failure` /
  `record_success`): after `FREE_FAILURES` consecutive failed sign-ins for one account *from one
  client*, the next attempt from that client waits 1 s, then 2 s, 4 s ... up to `MAX_DELAY`, and the
  password is not even checked meanwhile. A client is the browser's signed device cookie when it
  holds one for that account (OWASP "device cookies": a browser that signed in before keeps its own
  budget) or else its IP address. So failures from an attacker's addresses slow down the attacker
  only, never the staff member at her own browser or address. The counts are in the database
  (`clonus_login_backoff`), shared by every console process and kept across restarts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from pyrate_limiter import GCRA, InMemoryStateStore, Rate, RedisStateStore, WallClock
from sqlalchemy.orm import Session

from bot.db.models import LoginBackoff

UTC = timezone.utc  # noqa: UP017  (Python 3.10)

FREE_FAILURES = 3  # consecutive failures per account and client before the back-off starts
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)  # a client's failures are forgotten after a quiet day
DEVICE_COOKIE = "clonus_device"
DEVICE_COOKIE_MAX_AGE = 90 * 24 * 3600


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds, at least 1 when refused
    rule: str = ""


# --- rate limits per client ----------------------------------------------------------------------


def parse_rates(spec: str) -> list[Rate]:
    """'20/minute;100/hour' -> pyrate-limiter rates (ordered from short to long intervals)."""
    units = {"second": 1000, "minute": 60_000, "hour": 3_600_000, "day": 86_400_000}
    rates = []
    for part in spec.split(";"):
        count, _, unit = part.strip().partition("/")
        rates.append(Rate(int(count), units[unit.strip().rstrip("s")]))
    return sorted(rates, key=lambda r: r.interval)


class KeyedLimiter:
    """One GCRA budget per key (an IP address, a user id ...), in memory or in Redis."""

    _PRUNE_EVERY = 1000

    def __init__(self, name: str, rates: list[Rate], storage: str = "memory://") -> None:
        self.name = name
        self.rates = rates
        self.algorithm = GCRA()
        self._redis = None
        self._clock = WallClock()  # epoch milliseconds: the same on every machine sharing Redis
        if storage.startswith(("redis://", "rediss://", "unix://")):
            import redis  # already a dependency of Rasa

            self._redis = redis.Redis.from_url(storage)
        elif storage not in ("", "memory", "memory://"):
            raise SystemExit("CONSOLE_RATELIMIT_STORAGE must be memory:// or a redis:// URL")
        self._stores: dict[str, tuple[InMemoryStateStore, float]] = {}
        self._lock = threading.Lock()
        self._calls = 0
        # how long a key's state matters: the time to drain its longest budget
        self._idle = max(r.interval * r.burst / r.limit for r in rates) / 1000

    def _key(self, key: str) -> str:
        # keys can be addresses: hashed, so that Redis and memory dumps do not list them
        return hashlib.sha256(f"{self.name}\x00{key}".encode()).hexdigest()[:32]

    def _store(self, key: str):  # type: ignore[no-untyped-def]
        k = self._key(key)
        if self._redis is not None:
            return RedisStateStore(self._redis, key=f"clonus:ratelimit:{k}")
        now = time.monotonic()
        with self._lock:
            self._calls += 1
            if self._calls % self._PRUNE_EVERY == 0:  # bounded memory: forget drained keys
                self._stores = {kk: v for kk, v in self._stores.items() if now - v[1] < self._idle}
            store = self._stores.get(k, (InMemoryStateStore(), now))[0]
            self._stores[k] = (store, now)
        return store

    def hit(self, key: str) -> Verdict:
        decision = self._store(key).check(self.algorithm, self.rates, self._clock.now(), 1)
        if decision.allowed:
            return Verdict(True)
        wait_ms = decision.retry_after_ms if decision.retry_after_ms is not None else 60_000
        rule = str(decision.failing_rate) if decision.failing_rate is not None else self.name
        return Verdict(False, max(1, math.ceil(wait_ms / 1000)), rule)


def storage_from_env() -> str:
    return os.environ.get("CONSOLE_RATELIMIT_STORAGE", "memory://")


# --- device cookies -------------------------------------------------------------------------------


def _device_sig(secret_key: str, username: str, nonce: str) -> str:
    msg = f"device\x00{username}\x00{nonce}".encode()
    return hmac.new(secret_key.encode(), msg, hashlib.sha256).hexdigest()


def issue_device_cookie(secret_key: str, username: str) -> str:
    nonce = secrets.token_urlsafe(16)
    user = base64.urlsafe_b64encode(username.encode()).decode().rstrip("=")
    return f"{user}.{nonce}.{_device_sig(secret_key, username, nonce)}"


def read_device_cookie(secret_key: str, value: str | None) -> tuple[str, str] | None:
    """(username, nonce) of a well-signed device cookie, else None."""
    if not value or len(value) > 400 or value.count(".") != 2:
        return None
    user_b64, nonce, sig = value.split(".")
    try:
        username = base64.urlsafe_b64decode(user_b64 + "=" * (-len(user_b64) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(_device_sig(secret_key, username, nonce), sig):
        return None
    return username, nonce


def client_key(secret_key: str, username: str, device_cookie: str | None, ip: str | None) -> str:
    """The client that a sign-in attempt for `username` is counted against."""
    device = read_device_cookie(secret_key, device_cookie)
    if device is not None and device[0] == username:
        return f"device:{device[1]}"
    return f"ip:{ip or 'unknown'}"


# --- back-off per account and client ----------------------------------------------------------------


def _backoff_key(username: str, client: str) -> str:
    return hashlib.sha256(f"{username}\x00{client}".encode()).hexdigest()


def delay_after(failures: int) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - FREE_FAILURES, 20)), MAX_DELAY)


def check_backoff(s: Session, username: str, client: str, now: datetime) -> Verdict:
    """Whether this client may try this account now. Locks the (account, client) row until the
    transaction ends, so that parallel attempts are checked one after the other and cannot all slip
    through before the first failure is counted."""
    row = _upsert_row(s, _backoff_key(username, client), username, now)
    if row.next_allowed_at is None or row.next_allowed_at <= now:
        return Verdict(True)
    return Verdict(False, max(1, math.ceil((row.next_allowed_at - now).total_seconds())), "account back-off")


def _upsert_row(s: Session, key: str, username: str, now: datetime) -> LoginBackoff:
    """The row of `key`, created if missing; concurrent first failures must not collide."""
    table = LoginBackoff.__table__
    values = {"key_hash": key, "username": username, "failures": 0, "updated_at": now}
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    s.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=["key_hash"]))
    return s.execute(sa.select(LoginBackoff).where(LoginBackoff.key_hash == key).with_for_update()).scalar_one()


def record_failure(s: Session, username: str, client: str, now: datetime) -> int:
    """Count a failed sign-in; returns the consecutive failures of this account and client."""
    key = _backoff_key(username, client)
    s.execute(sa.delete(LoginBackoff).where(LoginBackoff.updated_at < now - FORGET_AFTER, LoginBackoff.key_hash != key))
    row = _upsert_row(s, key, username, now)
    if row.updated_at < now - FORGET_AFTER:  # a quiet day: start again
        row.failures = 0
    failures = (row.failures or 0) + 1
    row.failures = failures
    row.updated_at = now
    wait = delay_after(failures)
    row.next_allowed_at = now + wait if wait else None
    return failures


def record_success(s: Session, username: str, client: str) -> None:
    s.execute(sa.delete(LoginBackoff).where(LoginBackoff.key_hash == _backoff_key(username, client)))


def reset_account(s: Session, username: str) -> int:
    """Forget every back-off of an account (the admin's "reset sign-in delay")."""
    return s.execute(sa.delete(LoginBackoff).where(LoginBackoff.username == username)).rowcount or 0


def delayed_clients(s: Session, now: datetime) -> dict[str, int]:
    """Accounts with at least one client currently delayed, and how many such clients."""
    q = (
        sa.select(LoginBackoff.username, sa.func.count())
        .where(LoginBackoff.next_allowed_at > now)
        .group_by(LoginBackoff.username)
    )
    return {u: int(n) for u, n in s.execute(q)}
