"""`python -m console.consumer`: keeps the console's summary, search and alert tables up to date,
off the request path (page views never write them).

Two sources, one idempotent update (console.conversations: each touched conversation is recomputed
from this deployment's own stored events, so an event delivered twice, or delivered and caught up,
changes nothing):

- the event broker: Rasa's `pika` broker publishes every event (its `as_dict()` plus `sender_id`)
  to this deployment's own fanout exchange (CLONUS_EVENT_EXCHANGE, or the default derived from the
  database: bot.event_exchange; Rasa's shared default `rasa-exchange` is refused, since every
  deployment on the broker would read every other's conversations); this process binds its own
  durable queue (CLONUS_EVENT_QUEUE, `clonus_console_events`) to it and applies each batch of
  messages, acked after the batch is committed. The tracker store publishes only after it
  committed (rasa_ext/tracker_store.py), so a broker event that this deployment's tracker store
  does not hold is another deployment's or forged: it is not applied, only counted
  (`Consumer.not_stored`) and logged at WARNING as a number (no text, sender id or phone number).
- catch-up from the tracker store's `events` table and the assessments (high-water marks in
  `clonus_sync_state`, re-reading a margin below them): at start, and periodically (every
  CLONUS_CONSUMER_INTERVAL seconds: 0.5 without a broker, 1 with one), so nothing is missed while
  this process or the broker was down.

Environment: DATABASE_URL; RABBITMQ_HOST (empty or unset: no broker, catch-up only, the
single-machine shape), RABBITMQ_PORT (5672), RABBITMQ_USERNAME, RABBITMQ_PASSWORD, RABBITMQ_VHOST
(/); CLONUS_EVENT_EXCHANGE; CLONUS_EVENT_QUEUE; CLONUS_CONSUMER_INTERVAL; CLONUS_ALERT_MAX_AGE
(seconds, 3600: older decisions raise no alert when first seen).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from dataclasses import dataclass, replace
from typing import Any

import bot.db
from bot.event_exchange import ExchangeRefused, check_exchange, event_exchange
from console import conversations as conv

log = logging.getLogger("console.consumer")

DEFAULT_QUEUE = "clonus_console_events"
BATCH_WAIT = 0.05  # seconds to gather broker messages into one transaction
BATCH_MAX = 500


@dataclass(frozen=True)
class BrokerSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    vhost: str
    queue: str
    # this deployment's fanout exchange; None: the default derived from the database
    # (bot.event_exchange.default_exchange, resolved by main() once the database is migrated)
    exchange: str | None = None

    @classmethod
    def from_env(cls) -> BrokerSettings | None:
        """The broker settings, None without RABBITMQ_HOST. ExchangeRefused for the shared
        `rasa-exchange` (or an invalid name) in CLONUS_EVENT_EXCHANGE."""
        host = (os.environ.get("RABBITMQ_HOST") or "").strip()
        if not host:
            return None
        exchange = (os.environ.get("CLONUS_EVENT_EXCHANGE") or "").strip() or None
        return cls(
            host=host,
            port=int(os.environ.get("RABBITMQ_PORT") or 5672),
            username=os.environ.get("RABBITMQ_USERNAME") or None,
            password=os.environ.get("RABBITMQ_PASSWORD") or None,
            vhost=os.environ.get("RABBITMQ_VHOST") or "/",
            queue=os.environ.get("CLONUS_EVENT_QUEUE") or DEFAULT_QUEUE,
            exchange=check_exchange(exchange) if exchange is not None else None,
        )


def parse_message(body: bytes) -> tuple[str, str, float, str] | None:
    """(sender_id, type_name, timestamp, data JSON) of one broker message, None when it is not a
    Rasa event (nothing of the message is logged: it holds patient text)."""
    try:
        event = json.loads(body)
    except ValueError:
        return None
    if not isinstance(event, dict):
        return None
    sender, type_name, ts = event.get("sender_id"), event.get("event"), event.get("timestamp")
    if not isinstance(sender, str) or not sender or not isinstance(type_name, str):
        return None
    if not isinstance(ts, (int, float)) or isinstance(ts, bool):
        return None
    data = {k: v for k, v in event.items() if k != "sender_id"}
    return sender[:255], type_name, float(ts), json.dumps(data)


class Consumer:
    """The state of one consumer process: the broker events of the batch being applied, and how
    many broker events were not applied because this deployment's tracker store does not hold them."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url
        # conversation -> {event_key: (type, ts, data)}: the batch not applied yet
        self.batch: dict[str, dict[tuple, tuple[str, float, str]]] = {}
        self.not_stored = 0

    def add(self, sender: str, type_name: str, ts: float, data: str) -> None:
        key = conv.event_key(type_name, ts, data)
        self.batch.setdefault(sender, {})[key] = (type_name, ts, data)

    def apply(self, senders: set[str]) -> int:
        """Apply the broker events of these conversations (one transaction): the conversations
        whose events this deployment's tracker store holds are recomputed from it; the others'
        events are counted and logged (a number only), never applied."""
        events = {s: list(self.batch.pop(s).values()) for s in sorted(senders) if s in self.batch}
        applied = conv.apply_events(self.url, events)
        if applied.not_stored:
            self.not_stored += applied.not_stored
            log.warning(
                "%d broker events not in this deployment's tracker store were not applied (%d since start): "
                "another deployment's events on this exchange, or forged; check CLONUS_EVENT_EXCHANGE and "
                "RABBITMQ_VHOST",
                applied.not_stored,
                self.not_stored,
            )
        return applied.rebuilt

    def catch_up(self) -> int:
        """Everything stored since the last catch-up (one transaction; cheap when nothing is new)."""
        return conv.sync_summaries(self.url)


def catch_up(url: str | None = None) -> int:
    """One catch-up pass from the tracker store (what the consumer does at start and periodically)."""
    return Consumer(url).catch_up()


class Runner:
    def __init__(self, consumer: Consumer, broker: BrokerSettings | None, interval: float) -> None:
        if broker is not None and broker.exchange is not None:
            check_exchange(broker.exchange)  # never the shared `rasa-exchange`, however configured
        self.consumer = consumer
        self.broker = broker
        self.interval = interval
        self.stopping = asyncio.Event()
        self.db_lock = asyncio.Lock()  # one database pass at a time in this process

    async def _db(self, fn: Any, *args: Any) -> Any:
        async with self.db_lock:
            return await asyncio.to_thread(fn, *args)

    async def catch_up_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                await self._db(self.consumer.catch_up)
            except Exception as exc:  # noqa: BLE001  (database down: try again next round)
                log.error("catch-up failed (%s); retrying", type(exc).__name__)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), self.interval)

    async def broker_loop(self) -> None:
        import aio_pika

        assert self.broker is not None
        if self.broker.exchange is None:
            self.broker = replace(self.broker, exchange=await self._db(event_exchange, self.consumer.url))
        b = self.broker
        delay = 1.0
        while not self.stopping.is_set():
            try:
                connection = await aio_pika.connect_robust(
                    host=b.host,
                    port=b.port,
                    login=b.username or "guest",
                    password=b.password or "guest",
                    virtualhost=b.vhost,
                    timeout=10,
                )
            except Exception as exc:  # noqa: BLE001  (broker down: catch-up keeps the tables current)
                log.error("event broker unreachable (%s); retrying in %.0f s", type(exc).__name__, delay)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), delay)
                delay = min(30.0, delay * 2)
                continue
            delay = 1.0
            try:
                await self._consume(connection, aio_pika)
            finally:
                with contextlib.suppress(Exception):
                    await connection.close()

    async def _consume(self, connection: Any, aio_pika: Any) -> None:
        b = self.broker
        assert b is not None and b.exchange is not None
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=BATCH_MAX)
        # declared exactly as Rasa's pika broker declares them (a different flag would be refused)
        exchange = await channel.declare_exchange(check_exchange(b.exchange), type=aio_pika.ExchangeType.FANOUT)
        queue = await channel.declare_queue(b.queue, durable=True)
        await queue.bind(exchange, "")
        log.info("consuming the event broker's queue %s (exchange %s, vhost %s)", b.queue, b.exchange, b.vhost)
        inbox: asyncio.Queue = asyncio.Queue()
        tag = await queue.consume(inbox.put, no_ack=False)
        try:
            while not self.stopping.is_set():
                try:
                    first = await asyncio.wait_for(inbox.get(), 0.5)
                except asyncio.TimeoutError:
                    continue
                batch = [first]
                deadline = time.monotonic() + BATCH_WAIT
                while len(batch) < BATCH_MAX:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    try:
                        batch.append(await asyncio.wait_for(inbox.get(), left))
                    except asyncio.TimeoutError:
                        break
                await self._handle(batch)
        finally:
            with contextlib.suppress(Exception):
                await queue.cancel(tag)

    async def _handle(self, batch: list[Any]) -> None:
        senders: set[str] = set()
        dropped = 0
        for message in batch:
            parsed = parse_message(message.body)
            if parsed is None:
                dropped += 1
                continue
            self.consumer.add(*parsed)
            senders.add(parsed[0])
        if dropped:
            log.warning("%d broker messages that are not Rasa events dropped", dropped)
        try:
            if senders:
                await self._db(self.consumer.apply, senders)
        except Exception as exc:  # noqa: BLE001  (database down: the broker keeps the messages)
            log.error("applying %d broker events failed (%s); they are delivered again", len(batch), type(exc).__name__)
            for message in batch:
                with contextlib.suppress(Exception):
                    await message.nack(requeue=True)
            await asyncio.sleep(1.0)
            return
        for message in batch:
            await message.ack()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
                loop.add_signal_handler(sig, self.stopping.set)
        tasks = [asyncio.create_task(self.catch_up_loop())]
        if self.broker is not None:
            tasks.append(asyncio.create_task(self.broker_loop()))
        await self.stopping.wait()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _migrate_when_available(stop_after: float | None = None) -> None:
    delay, started = 2.0, time.monotonic()
    while True:
        try:
            bot.db.migrate()
            return
        except Exception as exc:  # noqa: BLE001  (database locked or down at start: wait for it)
            if stop_after is not None and time.monotonic() - started > stop_after:
                raise
            log.error("database unavailable (%s); retrying in %.0f s", type(exc).__name__, delay)
            time.sleep(delay)
            delay = min(30.0, delay * 1.5)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        broker = BrokerSettings.from_env()
    except ExchangeRefused as exc:
        log.critical("not started: %s", exc)
        raise SystemExit(2) from None
    interval = float(os.environ.get("CLONUS_CONSUMER_INTERVAL") or (1.0 if broker else 0.5))
    _migrate_when_available()
    if broker is not None and broker.exchange is None:
        broker = replace(broker, exchange=event_exchange())
    if broker is None:
        log.info("no event broker (RABBITMQ_HOST unset): catching up from the tracker store every %.1f s", interval)
    asyncio.run(Runner(Consumer(), broker, interval).run())


if __name__ == "__main__":
    main()
