"""Rasa's Redis lock store with atomic tickets and leases: two messages of one conversation that
reach two Rasa servers at the same moment are processed one after the other, in arrival order.

Rasa 3.6's `RedisLockStore` keeps a conversation's ticket queue as one JSON string and changes it
by read-modify-write from the client (GET, add a ticket, SET): two servers issuing a ticket at once
both read the same queue and both get the same number, so both think they are served and process
the conversation at the same time (measured here: the same ticket for 59 of 60 simultaneous pairs;
`tests/cluster/test_lock_store.py` holds the stock class to it). Removing a finished ticket races
the same way and can drop a waiter's ticket, which then fails with `LockError`.

Here every change of a queue is one Lua script, run atomically by Redis:
- tickets come from `INCR` on a per-conversation counter (`<prefix>lock:<id>:seq`), so no two
  callers ever get the same number; the queue is a sorted set (`<prefix>lock:<id>`, score = ticket
  number) with each ticket's expiry in a hash (`<prefix>lock:<id>:exp`), expiry on Redis's own clock
  (`TIME`), so the servers' clocks do not matter;
- a ticket is a **lease** of `lease_seconds` (default 10) that its holder renews every
  `lease_seconds / 5` while it waits and while it processes; a server that dies stops renewing and
  its ticket lapses within `lease_seconds`, after which the next message of the conversation (the one
  the load balancer retried on another server, say) goes on. Rasa's fixed 60 s lifetime would either
  hold such a conversation for a minute or, for a turn longer than the lifetime, let two run at once;
- a waiter polls its place every `poll_seconds` (default 0.02; Rasa's: 1 s) and gives up with Rasa's
  `LockError` after `max_wait_seconds` (default 60).

endpoints.cluster.yml:
    lock_store:
      type: rasa_ext.lock_store.AtomicRedisLockStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      db: ${REDIS_DB}
REDIS_PASSWORD and CLONUS_LOCK_KEY_PREFIX (alphanumeric; keys become `<prefix>:lock:<id>`) are read
from the environment when set (optional; `${...}` in endpoints would make them mandatory). The keys never hold message content: only the conversation id.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from contextlib import asynccontextmanager, suppress
from typing import Any, AsyncGenerator, Optional, Text

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 10.0
DEFAULT_POLL_SECONDS = 0.02
DEFAULT_MAX_WAIT_SECONDS = 60.0

# Shared prologue: drop the expired tickets of KEYS[1] (queue) / KEYS[2] (expiries); `now` in ms.
_EXPIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local exp = redis.call('HGETALL', KEYS[2])
for i = 1, #exp, 2 do
  if tonumber(exp[i + 1]) <= now then
    redis.call('HDEL', KEYS[2], exp[i])
    redis.call('ZREM', KEYS[1], exp[i])
  end
end
"""

# KEYS: queue, expiries, counter. ARGV: lease in ms. Returns the new ticket number.
ISSUE = _EXPIRE + """
local lease = tonumber(ARGV[1])
local n = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[1], n, tostring(n))
redis.call('HSET', KEYS[2], tostring(n), now + lease)
redis.call('PEXPIRE', KEYS[1], lease)
redis.call('PEXPIRE', KEYS[2], lease)
-- the counter outlives every ticket, so numbers only grow while anyone waits
redis.call('PEXPIRE', KEYS[3], 2 * lease + 60000)
return n
"""

# KEYS: queue, expiries, counter. ARGV: ticket, lease in ms.
# Renews the ticket's lease; returns 1 when it is served now, 0 when it waits, -1 when it is gone.
POLL = _EXPIRE + """
local n = ARGV[1]
local lease = tonumber(ARGV[2])
if redis.call('HEXISTS', KEYS[2], n) == 0 then
  return -1
end
redis.call('HSET', KEYS[2], n, now + lease)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < lease then
  redis.call('PEXPIRE', KEYS[1], lease)
  redis.call('PEXPIRE', KEYS[2], lease)
end
if redis.call('PTTL', KEYS[3]) < 2 * lease + 60000 then
  redis.call('PEXPIRE', KEYS[3], 2 * lease + 60000)
end
local head = redis.call('ZRANGE', KEYS[1], 0, 0)
if head[1] == n then
  return 1
end
return 0
"""

# KEYS: queue, expiries. ARGV: ticket. Removes it; the queue keys go when nobody is left.
RELEASE = _EXPIRE + """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
end
return 1
"""

# KEYS: queue, expiries. Returns the live tickets as {number, expiry ms, ...} in ticket order.
READ = _EXPIRE + """
local out = {}
for _, n in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  table.insert(out, n)
  table.insert(out, redis.call('HGET', KEYS[2], n))
end
return out
"""


def _setting(kwargs: dict, name: str, env: str, default: float) -> float:
    value = kwargs.pop(name, None)
    if value in (None, ""):
        value = os.environ.get(env, "") or default
    return float(value)


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose tickets and queue changes are atomic (Lua scripts on Redis)."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {**endpoint_config.kwargs, **kwargs}
            kwargs.setdefault("host", endpoint_config.url or "localhost")
        # Rasa's EndpointConfig keeps `url` apart; a `type` key may still be in kwargs.
        kwargs.pop("type", None)
        self.lease_seconds = _setting(kwargs, "lease_seconds", "CLONUS_LOCK_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
        self.poll_seconds = _setting(kwargs, "poll_seconds", "CLONUS_LOCK_POLL_SECONDS", DEFAULT_POLL_SECONDS)
        self.max_wait_seconds = _setting(
            kwargs, "max_wait_seconds", "CLONUS_LOCK_MAX_WAIT_SECONDS", DEFAULT_MAX_WAIT_SECONDS
        )
        if not kwargs.get("key_prefix") and os.environ.get("CLONUS_LOCK_KEY_PREFIX"):
            kwargs["key_prefix"] = os.environ["CLONUS_LOCK_KEY_PREFIX"]
        if not kwargs.get("password") and os.environ.get("REDIS_PASSWORD"):
            kwargs["password"] = os.environ["REDIS_PASSWORD"]
        for name, cast in (("port", int), ("db", int), ("socket_timeout", float)):
            if kwargs.get(name) not in (None, ""):
                kwargs[name] = cast(kwargs[name])
        super().__init__(**kwargs)
        self._issue = self.red.register_script(ISSUE)
        self._poll = self.red.register_script(POLL)
        self._release = self.red.register_script(RELEASE)
        self._read = self.red.register_script(READ)
        self._async_client: Any = None
        self._async_scripts: dict = {}
        # The connection settings, for the asyncio client (the event loop must not wait on Redis).
        self._connection_kwargs = dict(self.red.connection_pool.connection_kwargs)

    # -- keys -------------------------------------------------------------------------------
    def _keys(self, conversation_id: Text) -> list:
        base = self.key_prefix + conversation_id
        return [base, base + ":exp", base + ":seq"]

    def _lease_ms(self, lifetime: Optional[float] = None) -> int:
        return max(1, int(round((lifetime or self.lease_seconds) * 1000)))

    # -- the synchronous API of Rasa's LockStore, atomic ---------------------------------------
    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return int(self._issue(keys=self._keys(conversation_id), args=[self._lease_ms(lock_lifetime)]))
        except Exception as exc:  # noqa: BLE001 - Rasa's contract: LockError
            raise LockError(f"Error while acquiring lock ({type(exc).__name__})") from None

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        flat = self._read(keys=self._keys(conversation_id)[:2])
        if not flat:
            return None
        tickets = [Ticket(int(flat[i]), int(flat[i + 1]) / 1000.0) for i in range(0, len(flat), 2)]
        # Expiries are on Redis's clock; TicketLock compares with this host's: keep them valid here.
        for ticket in tickets:
            ticket.expires = float("inf")
        return TicketLock(conversation_id, deque(tickets))

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError("AtomicRedisLockStore changes its queues only through its scripts")

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self._release(keys=self._keys(conversation_id)[:2], args=[ticket_number])

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        self.finish_serving(conversation_id, ticket_number)

    def update_lock(self, conversation_id: Text) -> None:
        self._read(keys=self._keys(conversation_id)[:2])

    def delete_lock(self, conversation_id: Text) -> None:
        self.red.delete(*self._keys(conversation_id)[:2])

    # -- what Rasa's agent and processor call ---------------------------------------------------
    def _aio(self) -> Any:
        if self._async_client is None:
            import redis.asyncio

            kwargs = {
                k: v
                for k, v in self._connection_kwargs.items()
                if k in {"host", "port", "db", "username", "password", "socket_timeout"}
            }
            ssl = self.red.connection_pool.connection_class.__name__ == "SSLConnection"
            if ssl:
                kwargs.update(
                    ssl=True,
                    ssl_certfile=self._connection_kwargs.get("ssl_certfile"),
                    ssl_keyfile=self._connection_kwargs.get("ssl_keyfile"),
                    ssl_ca_certs=self._connection_kwargs.get("ssl_ca_certs"),
                )
            self._async_client = redis.asyncio.StrictRedis(**kwargs)
            self._async_scripts = {
                "issue": self._async_client.register_script(ISSUE),
                "poll": self._async_client.register_script(POLL),
                "release": self._async_client.register_script(RELEASE),
            }
        return self._async_scripts

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncGenerator[TicketLock, None]:
        """Waits for this conversation's turn (FIFO by ticket), holds it while the body runs.

        `lock_lifetime` and `wait_time_in_seconds` (Rasa's) are replaced by the lease, renewed
        while this process lives, and `poll_seconds`."""
        scripts = self._aio()
        keys = self._keys(conversation_id)
        lease = self._lease_ms()
        try:
            ticket = int(await scripts["issue"](keys=keys, args=[lease]))
        except Exception as exc:  # noqa: BLE001
            raise LockError(f"Error while acquiring lock ({type(exc).__name__})") from None
        renewer: Optional[asyncio.Task] = None
        try:
            await self._wait_for_turn(scripts, keys, ticket, lease)
            renewer = asyncio.get_running_loop().create_task(self._renew(scripts, keys, ticket, lease))
            yield TicketLock(conversation_id, deque([Ticket(ticket, float("inf"))]))
        finally:
            if renewer is not None:
                renewer.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await renewer
            try:
                await scripts["release"](keys=keys[:2], args=[ticket])
            except Exception as exc:  # noqa: BLE001 - the lease lapses by itself
                logger.warning("could not release a conversation lock (%s); it lapses in %.0f s",
                               type(exc).__name__, self.lease_seconds)

    async def _wait_for_turn(self, scripts: dict, keys: list, ticket: int, lease: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_seconds
        while True:
            try:
                state = int(await scripts["poll"](keys=keys, args=[ticket, lease]))
            except Exception as exc:  # noqa: BLE001
                raise LockError(f"Error while acquiring lock ({type(exc).__name__})") from None
            if state == 1:
                return
            if state == -1:
                raise LockError("the conversation's lock ticket lapsed while waiting")
            if loop.time() >= deadline:
                raise LockError(f"waited {self.max_wait_seconds:.0f} s for the conversation's lock")
            await asyncio.sleep(self.poll_seconds)

    async def _renew(self, scripts: dict, keys: list, ticket: int, lease: int) -> None:
        interval = max(0.05, self.lease_seconds / 5)
        while True:
            await asyncio.sleep(interval)
            try:
                if int(await scripts["poll"](keys=keys, args=[ticket, lease])) == -1:
                    logger.error("a conversation's lock lapsed while its turn was running")
                    return
            except Exception as exc:  # noqa: BLE001 - try again at the next interval
                logger.warning("could not renew a conversation lock (%s)", type(exc).__name__)
