"""The channels' rate limits, in this process's memory (the single shape) or in Redis shared by every
Rasa server of the cluster shape, so that N servers behind the load balancer still give a sender
one budget, not N.

`channel_limiter(name, rate)` picks the kind: Redis when REDIS_HOST is set (the lock store's
variables: REDIS_HOST / REDIS_PORT / REDIS_DB / REDIS_PASSWORD, endpoints.cluster.yml), else
`RateLimiter` (memory). Both limit with GCRA: `count` per `period`, bursts up to `count`. The shared
one is pyrate-limiter's `GCRA` on its `RedisStateStore` (one Lua script per check, atomic across
servers; one small hash per key that expires once drained), on the asyncio Redis client so the
event loop never waits on a socket.

Keys never hold a phone number, a client address or a conversation id in clear: each is an
HMAC-SHA256 (cut to 128 bits) under CLONUS_RATELIMIT_KEY, a per-deployment secret that every server
must share (generated into the data directory as `ratelimit_key`, mode 0600, when unset, like the
widget secret). Redis key: `[<CLONUS_LOCK_KEY_PREFIX>:]clonus:channel-limit:<limit name>:<hmac>`.

Redis down (refused, timed out, any error): the check falls back to this process's own in-memory
limiter of the same rate (what the single shape does), logs one warning per outage, and tries Redis
again after `RETRY_SECONDS`. Failing open to the local limit, not closed: a message is never refused
because Redis is down, so an emergency is always answered (and a refused message still gets the
emergency screen: see the channels); a sender's budget is at worst N times the limit meanwhile.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Optional, Union

from pyrate_limiter import GCRA, Rate, RedisStateStore

from rasa_ext.channels import RateLimiter, secret_from_env_or_file

logger = logging.getLogger(__name__)

#: How long a failed Redis is left alone before the next check tries it again (the local limit
#: applies meanwhile), so that an outage does not cost every request a connect timeout.
RETRY_SECONDS = 5.0
#: A check gives up on Redis after this long (connect or reply) and uses the local limit.
REDIS_TIMEOUT_SECONDS = 0.25
KEY_ENV = "CLONUS_RATELIMIT_KEY"
KEY_FILE = "ratelimit_key"


@dataclass(frozen=True)
class Verdict:
    """One request counted: allowed, or refused with the whole seconds to wait (at least 1)."""

    allowed: bool
    retry_after: int = 0

    def __bool__(self) -> bool:
        return self.allowed


async def check_local(limiter: RateLimiter, key: str) -> Verdict:
    if limiter.hit(key):
        return Verdict(True)
    return Verdict(False, limiter.retry_after(key))


def key_digest(secret: str, name: str, key: str) -> str:
    """The Redis name of `key` under limit `name`: a keyed hash, so that neither Redis, its dumps
    nor its slow log list phone numbers or addresses (a plain hash of a phone number is reversed by
    trying every number)."""
    return hmac.new(secret.encode(), f"channel-limit\x00{name}\x00{key}".encode(), hashlib.sha256).hexdigest()[:32]


def redis_settings(env: Optional[dict] = None) -> Optional[dict]:
    """Connection settings of the cluster shape's Redis from the lock store's variables, or None
    when REDIS_HOST is not set (the single shape)."""
    env = os.environ if env is None else env
    host = (env.get("REDIS_HOST") or "").strip()
    if not host:
        return None
    return {
        "host": host,
        "port": int(env.get("REDIS_PORT") or 6379),
        "db": int(env.get("REDIS_DB") or 0),
        "password": env.get("REDIS_PASSWORD") or None,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
    }


class SharedRateLimiter:
    """`count` per `period` per key for every process sharing one Redis (pyrate-limiter GCRA on
    RedisStateStore); this process's `RateLimiter` of the same rate while Redis fails."""

    def __init__(self, name: str, rate: str, redis: dict, secret: str, prefix: str = "") -> None:
        self.name = name
        self.local = RateLimiter(rate)
        self.rate = rate
        self.count, self.period = self.local.count, self.local.period
        self.rates = [Rate(self.count, int(round(self.period * 1000)))]
        self.algorithm = GCRA()
        self.redis_kwargs = dict(redis)
        self.secret = secret
        self.prefix = f"{prefix}:" if prefix else ""
        self._client: Any = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._down_until = 0.0

    def redis_key(self, key: str) -> str:
        return f"{self.prefix}clonus:channel-limit:{self.name}:{key_digest(self.secret, self.name, key)}"

    def _redis(self) -> Any:
        # An asyncio client belongs to one event loop (Sanic's; tests run several loops).
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            import redis.asyncio

            self._client = redis.asyncio.Redis(**self.redis_kwargs)
            self._loop = loop
        return self._client

    async def check(self, key: str) -> Verdict:
        if time.monotonic() < self._down_until:
            return await check_local(self.local, key)
        try:
            store = RedisStateStore(self._redis(), key=self.redis_key(key))
            decision = await store.check(self.algorithm, self.rates, int(time.time() * 1000), 1)
        except Exception as exc:  # noqa: BLE001 - Redis down or failing: the local limit, never a refusal for it
            if self._down_until == 0.0:
                logger.warning(
                    "channel limits: Redis unavailable (%s); limit %s is per process until it is back",
                    type(exc).__name__,
                    self.name,
                )
            self._down_until = time.monotonic() + RETRY_SECONDS
            return await check_local(self.local, key)
        if self._down_until:
            logger.warning("channel limits: Redis is back; limit %s is shared again", self.name)
            self._down_until = 0.0
        if decision.allowed:
            return Verdict(True)
        wait_ms = decision.retry_after_ms if decision.retry_after_ms is not None else int(self.period * 1000)
        return Verdict(False, max(1, -(-wait_ms // 1000)))


Limiter = Union[RateLimiter, SharedRateLimiter]


def channel_limiter(name: str, rate: str, env: Optional[dict] = None) -> Limiter:
    """The limiter of channel limit `name` ("widget:per_ip", ...): shared through Redis when the
    cluster shape's Redis is configured, else in this process's memory."""
    env = os.environ if env is None else env
    redis = redis_settings(env)
    if redis is None:
        return RateLimiter(rate)
    secret = env.get(KEY_ENV) or secret_from_env_or_file(KEY_ENV, KEY_FILE)
    prefix = (env.get("CLONUS_LOCK_KEY_PREFIX") or "").strip()
    return SharedRateLimiter(name, rate, redis, secret, prefix)


async def check(limiter: Limiter, key: str) -> Verdict:
    """Count one request for `key` on either kind of limiter."""
    if isinstance(limiter, SharedRateLimiter):
        return await limiter.check(key)
    return await check_local(limiter, key)
