"""Two deployments (two clinics) on one RabbitMQ: each publishes to its own exchange and its console
sees only its own conversations and alerts; an event of another deployment (or a forged one) that
reaches a deployment's exchange is not applied; the shared `rasa-exchange` is refused.

Real RabbitMQ (127.0.0.1:5672, guest) and real PostgreSQL databases of their own (fresh_db_url);
the Rasa side is Rasa's PikaEventBroker built from endpoints.cluster.yml as the Rasa server builds
it, under the tracker store the cluster runs (rasa_ext.tracker_store.DatabaseUrlTrackerStore:
stored, then published)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import bot.db as db
from bot.db.models import Alert, ConversationSummary, ConversationText
from console import demo
from console.consumer import BrokerSettings, Consumer, Runner
from tests.console.helpers import NOW

ROOT = Path(__file__).resolve().parents[2]
RABBITMQ_HOST = os.environ.get("CLONUS_TEST_RABBITMQ_HOST", "127.0.0.1")
TEST_QUEUE_EXPIRES_MS = 30_000  # as in test_console_consumer: a queue left behind goes away by itself


@contextlib.contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    """os.environ with `values` for the block (Rasa reads endpoints.cluster.yml's ${VARS} from it)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(autouse=True)
def _expiring_test_queues(monkeypatch: pytest.MonkeyPatch) -> None:
    from aio_pika.channel import Channel

    declare = Channel.declare_queue

    async def declare_queue(self, name=None, *, arguments=None, **kwargs):  # type: ignore[no-untyped-def]
        if name and name.startswith("h11x_test_"):
            arguments = {**(arguments or {}), "x-expires": TEST_QUEUE_EXPIRES_MS}
        return await declare(self, name, arguments=arguments, **kwargs)

    monkeypatch.setattr(Channel, "declare_queue", declare_queue)


async def _amqp(fn):  # type: ignore[no-untyped-def]
    import aio_pika

    conn = await aio_pika.connect(host=RABBITMQ_HOST, port=5672, login="guest", password="guest")
    async with conn:
        return await fn(await conn.channel())


@functools.lru_cache(maxsize=1)
def _domain():  # type: ignore[no-untyped-def]
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml"))


class Deployment:
    """One clinic's deployment: its database, exchange and console queue, its Rasa side (tracker
    store + pika broker from endpoints.cluster.yml) and its console consumer (in a thread)."""

    def __init__(self, url: str, exchange: str | None = None) -> None:
        self.url = url
        tag = uuid.uuid4().hex[:8]
        self.queue = f"h11x_test_{tag}"
        self.exchange = exchange or f"h11x_test_exchange_{tag}"
        self.runner: Runner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def env(self) -> dict[str, str]:
        """What scripts/run_cluster.sh exports for endpoints.cluster.yml and the consumer."""
        return {
            "DATABASE_URL": self.url,
            "ACTION_PORT": "5055",
            "ACTION_SERVER_SECRET": "not-used-here",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": "6379",
            "REDIS_DB": "3",
            "RABBITMQ_HOST": RABBITMQ_HOST,
            "RABBITMQ_PORT": "5672",
            "RABBITMQ_USERNAME": "guest",
            "RABBITMQ_PASSWORD": "guest",
            "RABBITMQ_VHOST": "/",
            "CLONUS_EVENT_QUEUE": self.queue,
            "CLONUS_EVENT_EXCHANGE": self.exchange,
        }

    # -- Rasa's side ---------------------------------------------------------------------------
    def rasa_stores(self, conversations: dict[str, list[dict]]) -> None:
        """Each conversation saved by the cluster's tracker store, which publishes its events through
        the event broker Rasa makes from endpoints.cluster.yml."""
        import rasa.shared.core.events  # noqa: F401  (the broker uses it; the Rasa server has it loaded)
        from rasa.core.brokers.broker import EventBroker
        from rasa.shared.core.trackers import DialogueStateTracker
        from rasa.utils.endpoints import read_endpoint_config

        from rasa_ext.tracker_store import DatabaseUrlTrackerStore

        async def go() -> None:
            with environ(self.env()):
                config = read_endpoint_config(str(ROOT / "endpoints.cluster.yml"), "event_broker")
                broker = await EventBroker.create(config)
                assert broker is not None
            store = DatabaseUrlTrackerStore(domain=_domain(), host=self.url, event_broker=broker)
            try:
                for sender, rows in conversations.items():
                    tracker = DialogueStateTracker.from_dict(
                        sender, [json.loads(r["data"]) for r in rows], _domain().slots
                    )
                    await store.save(tracker)
                await asyncio.sleep(0.5)  # publish() schedules the sends on the loop
            finally:
                await broker.close()
                store.engine.dispose()

        asyncio.run(go())

    # -- the console's side --------------------------------------------------------------------
    def start_consumer(self) -> None:
        with environ(self.env()):
            settings = BrokerSettings.from_env()
        ready = threading.Event()

        def run() -> None:
            async def main() -> None:
                # catch-up at start only (the database is empty then): what follows comes by the broker
                self.runner = Runner(Consumer(self.url), settings, interval=3600.0)
                self._loop = asyncio.get_running_loop()
                ready.set()
                await self.runner.run()

            asyncio.run(main())

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert ready.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # its queue is declared, bound and consumed
            if self._consumers() > 0:
                return
            time.sleep(0.1)
        raise AssertionError("the consumer never consumed its queue")

    def _consumers(self) -> int:
        async def count(channel):  # type: ignore[no-untyped-def]
            try:
                q = await channel.declare_queue(self.queue, durable=True, passive=True)
            except Exception:  # noqa: BLE001  (not declared yet)
                return 0
            return q.declaration_result.consumer_count

        return asyncio.run(_amqp(count))

    def stop(self) -> None:
        if self.runner is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self.runner.stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=10)

        async def delete(channel):  # type: ignore[no-untyped-def]
            await channel.queue_delete(self.queue)
            await channel.exchange_delete(self.exchange)

        with contextlib.suppress(Exception):
            asyncio.run(_amqp(delete))

    # -- what the console shows ----------------------------------------------------------------
    def summaries(self) -> dict[str, int]:
        with db.session_scope(self.url, write=False) as s:
            return {r.conversation_id: r.message_count for r in s.execute(sa.select(ConversationSummary)).scalars()}

    def alerts(self) -> set[tuple[str, str]]:
        with db.session_scope(self.url, write=False) as s:
            return {(a.conversation_id, a.level) for a in s.execute(sa.select(Alert)).scalars()}

    def texts(self) -> str:
        with db.session_scope(self.url, write=False) as s:
            return "\n".join(t.text for t in s.execute(sa.select(ConversationText)).scalars())

    def wait_for(self, sender: str, messages: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.summaries().get(sender) == messages:
                return
            time.sleep(0.1)
        raise AssertionError(f"the console never showed its own conversation {sender}: {self.summaries()}")


def _conversation(sender: str, minutes_ago: int, scenario: int, channel: str) -> list[dict]:
    return demo.conversation_events(sender, NOW - timedelta(minutes=minutes_ago), demo.SCENARIOS[scenario], channel)


def _messages(rows: list[dict]) -> int:
    return sum(1 for r in rows if r["type_name"] in ("user", "bot"))


def _user_texts(rows: list[dict]) -> list[str]:
    """Lowercased, as the search text keeps them."""
    return [json.loads(r["data"])["text"].lower() for r in rows if r["type_name"] == "user"]


@pytest.fixture
def two_deployments(fresh_db_url):  # type: ignore[no-untyped-def]
    a, b = Deployment(fresh_db_url("postgresql")), Deployment(fresh_db_url("postgresql"))
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def test_two_deployments_on_one_broker_see_only_their_own_conversations_and_alerts(two_deployments) -> None:  # type: ignore[no-untyped-def]
    a, b = two_deployments
    assert a.exchange != b.exchange
    a.start_consumer()
    b.start_consumer()
    # clinic A: an SMS emergency (its sender id is a phone number) and a website urgent one
    own_a = {"+13125550101": _conversation("+13125550101", 5, 0, "twilio"), "a-web-1": _conversation("a-web-1", 4, 1, "widget")}
    own_b = {"+13125550202": _conversation("+13125550202", 5, 0, "twilio"), "b-web-1": _conversation("b-web-1", 3, 2, "widget")}
    a.rasa_stores(own_a)
    b.rasa_stores(own_b)
    # a last conversation in each, once the others were published: when a console shows it, the
    # console's queue has delivered everything published before it (one queue, in order)
    last_a, last_b = {"a-last": _conversation("a-last", 1, 3, "widget")}, {"b-last": _conversation("b-last", 1, 3, "widget")}
    a.rasa_stores(last_a)
    b.rasa_stores(last_b)
    a.wait_for("a-last", _messages(last_a["a-last"]))
    b.wait_for("b-last", _messages(last_b["b-last"]))

    for mine, dep in ((own_a | last_a, a), (own_b | last_b, b)):
        summaries = dep.summaries()
        assert set(summaries) == set(mine), f"another deployment's conversations in this console: {sorted(set(summaries) - set(mine))}"
        assert summaries == {sender: _messages(rows) for sender, rows in mine.items()}
    # B's routine booking conversation is the only one with these words: never in A's search text
    assert all(t in b.texts() for t in _user_texts(own_b["b-web-1"]))
    assert not any(t in a.texts() for t in _user_texts(own_b["b-web-1"]))
    assert a.alerts() == {("+13125550101", "emergency"), ("a-web-1", "urgent")}
    assert b.alerts() == {("+13125550202", "emergency")}
    for dep in (a, b):
        assert dep.runner is not None and dep.runner.consumer.not_stored == 0


def test_a_foreign_event_on_a_deployments_exchange_is_not_applied(fresh_db_url, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="console")
    a = Deployment(fresh_db_url("postgresql"))
    try:
        a.start_consumer()
        own = {"+13125550303": _conversation("+13125550303", 6, 1, "twilio")}
        a.rasa_stores(own)
        a.wait_for("+13125550303", _messages(own["+13125550303"]))
        before = (a.summaries(), a.alerts(), a.texts())

        # Another clinic's emergency conversation, and an event forged into clinic A's own
        # conversation, published to A's exchange (a misconfigured deployment, or anyone who may
        # publish there) through Rasa's broker.
        from rasa.core.brokers.pika import PikaEventBroker

        foreign_sender = "+13125550999"
        foreign = _conversation(foreign_sender, 2, 0, "twilio")
        forged_text = "forged-" + uuid.uuid4().hex
        forged = {"sender_id": "+13125550303", "event": "user", "timestamp": time.time(), "text": forged_text,
                  "parse_data": {"intent": {"name": "greet", "confidence": 1.0}, "entities": []}}
        bodies = [{"sender_id": r["sender_id"], **json.loads(r["data"])} for r in foreign] + [forged]

        async def inject() -> None:
            broker = PikaEventBroker(host=RABBITMQ_HOST, username="guest", password="guest", port=5672,
                                     queues=[a.queue], exchange_name=a.exchange, raise_on_failure=True)
            await broker.connect()
            for body in bodies:
                broker.publish(body)
            await asyncio.sleep(0.5)
            await broker.close()

        asyncio.run(inject())
        last = {"a-last": _conversation("a-last", 1, 3, "widget")}
        a.rasa_stores(last)  # published after the foreign ones: shown means they were handled
        a.wait_for("a-last", _messages(last["a-last"]))

        summaries = a.summaries()
        assert foreign_sender not in summaries, "another deployment's conversation reached this console"
        assert (foreign_sender, "emergency") not in a.alerts(), "another deployment's emergency alert reached this console"
        assert summaries["+13125550303"] == before[0]["+13125550303"], "a forged event changed a conversation"
        assert forged_text not in a.texts()
        assert a.alerts() == before[1]
        assert a.runner is not None and a.runner.consumer.not_stored == len(bodies)
        warnings = [r for r in caplog.records if r.name == "console.consumer" and r.levelno == logging.WARNING]
        assert warnings and all("tracker store" in r.getMessage() for r in warnings)
        assert sum(r.args[0] for r in warnings) == len(bodies)
        logged = "\n".join(r.getMessage() for r in caplog.records)
        for secret in [foreign_sender, "+13125550303", "3125550", forged_text, *[t for t in _user_texts(foreign) if len(t) > 12]]:
            assert secret not in logged
    finally:
        a.stop()


def test_the_consumer_refuses_the_shared_rasa_exchange(tmp_path) -> None:  # type: ignore[no-untyped-def]
    queue = f"h11x_test_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite3'}",
        "RABBITMQ_HOST": RABBITMQ_HOST,
        "RABBITMQ_USERNAME": "guest",
        "RABBITMQ_PASSWORD": "guest",
        "CLONUS_EVENT_QUEUE": queue,
        "CLONUS_EVENT_EXCHANGE": "rasa-exchange",
    }
    try:
        try:
            result = subprocess.run([sys.executable, "-m", "console.consumer"], cwd=ROOT, env=env,
                                    capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("the consumer started on the shared rasa-exchange")
        assert result.returncode == 2
        out = result.stdout + result.stderr
        assert "CLONUS_EVENT_EXCHANGE=rasa-exchange refused" in out and "other clinics" in out
    finally:
        async def delete(channel):  # type: ignore[no-untyped-def]
            await channel.queue_delete(queue)

        with contextlib.suppress(Exception):
            asyncio.run(_amqp(delete))


def test_the_shared_exchange_is_refused_however_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.event_exchange import ExchangeRefused

    settings = BrokerSettings("127.0.0.1", 5672, "guest", "guest", "/", "q", "rasa-exchange")
    with pytest.raises(ExchangeRefused):
        Runner(Consumer(None), settings, interval=1.0)
    monkeypatch.setenv("RABBITMQ_HOST", "127.0.0.1")
    for name in ("rasa-exchange", " rasa-exchange ", "amq.fanout", "a b", "x" * 256):
        monkeypatch.setenv("CLONUS_EVENT_EXCHANGE", name)
        with pytest.raises(ExchangeRefused):
            BrokerSettings.from_env()


def test_the_default_exchange_is_the_deployments_own(fresh_db_url) -> None:  # type: ignore[no-untyped-def]
    from bot.event_exchange import SHARED_EXCHANGE, default_exchange

    one, two = fresh_db_url("postgresql"), fresh_db_url("postgresql")
    sqlite_one, sqlite_two = fresh_db_url("sqlite"), fresh_db_url("sqlite")
    names = [default_exchange(u) for u in (one, two, sqlite_one, sqlite_two)]
    assert len(set(names)) == 4 and SHARED_EXCHANGE not in names
    assert all(n.startswith("clonus-events-") for n in names)
    assert default_exchange(one) == names[0]  # stable: every process of the deployment agrees

    # Two machines with identical DATABASE_URLs (each its own local PostgreSQL named `clonus`) do
    # not share it either: each database keeps a random id of its own. Seen here as one URL whose
    # database was replaced by another one.
    with db.session_scope(one) as s:
        s.execute(sa.text("DELETE FROM clonus_sync_state WHERE name = 'deployment_id'"))
    assert default_exchange(one) != names[0]


def test_run_cluster_gets_the_exchange_from_the_same_rule(fresh_db_url) -> None:  # type: ignore[no-untyped-def]
    """scripts/run_cluster.sh exports `python -m bot.event_exchange` for endpoints.cluster.yml."""
    from bot.event_exchange import default_exchange

    url = fresh_db_url("postgresql")
    env = {k: v for k, v in os.environ.items() if k != "CLONUS_EVENT_EXCHANGE"}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=url)

    def run(**extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot.event_exchange"], cwd=ROOT, env={**env, **extra},
                              capture_output=True, text=True, timeout=60)

    derived = run()
    assert derived.returncode == 0 and derived.stdout.strip() == default_exchange(url)
    assert run(CLONUS_EVENT_EXCHANGE="clinic-a-events").stdout.strip() == "clinic-a-events"
    refused = run(CLONUS_EVENT_EXCHANGE="rasa-exchange")
    assert refused.returncode == 2 and refused.stdout == "" and "refused" in refused.stderr
    script = (ROOT / "scripts" / "run_cluster.sh").read_text()
    assert "CLONUS_EVENT_EXCHANGE=$(.venv/bin/python -m bot.event_exchange)\nexport CLONUS_EVENT_EXCHANGE" in script


def test_rasa_publishes_to_the_configured_vhost_and_exchange(fresh_db_url) -> None:  # type: ignore[no-untyped-def]
    """Rasa 3.6's PikaEventBroker takes the vhost only from an amqp:// URL: endpoints.cluster.yml
    builds one from RABBITMQ_VHOST. A vhost RabbitMQ does not have is refused (it reached the
    broker); `/` works, and the exchange made is CLONUS_EVENT_EXCHANGE."""
    from rasa.core.brokers.pika import PikaEventBroker
    from rasa.utils.endpoints import read_endpoint_config

    dep = Deployment(fresh_db_url("sqlite"))

    async def connect(vhost: str) -> None:
        with environ({**dep.env(), "RABBITMQ_VHOST": vhost}):
            config = read_endpoint_config(str(ROOT / "endpoints.cluster.yml"), "event_broker")
        broker = PikaEventBroker(config.url, **{**config.kwargs, "connection_attempts": 1, "retry_delay_in_seconds": 0})
        await broker.connect()
        await broker.close()

    try:
        with pytest.raises(Exception) as refused:  # noqa: PT011  (aiormq's error for a refused Connection.Open)
            asyncio.run(connect(f"clonus-no-such-vhost-{uuid.uuid4().hex[:6]}"))
        assert "Connection.OpenOk" in str(refused.value) or "vhost" in str(refused.value).lower()
        asyncio.run(connect("/"))

        async def exists(channel):  # type: ignore[no-untyped-def]
            await channel.get_exchange(dep.exchange, ensure=True)  # passive: raises when absent
            return True

        assert asyncio.run(_amqp(exists))
    finally:
        dep.stop()
