"""console.consumer (issue 11): page views never write summaries; broker events and catch-up update
the summary, search and alert tables idempotently; a real RabbitMQ queue fed by Rasa's own pika
broker reaches the console's tables."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

import bot.db as db
from bot.db.models import Alert, ConversationSummary, ConversationText, TriageAssessment
from console import demo
from console.consumer import BrokerSettings, Consumer, Runner, catch_up, parse_message
from tests.console.helpers import NOW


def _broker_body(row: dict) -> bytes:
    """What Rasa's pika broker publishes for a stored event: its as_dict() plus sender_id."""
    return json.dumps({"sender_id": row["sender_id"], **json.loads(row["data"])}).encode()


def _summary(url: str, cid: str) -> dict | None:
    with db.session_scope(url, write=False) as s:
        row = s.get(ConversationSummary, cid)
        if row is None:
            return None
        text = s.get(ConversationText, cid)
        return {
            "level": row.triage_level,
            "rules": row.rule_ids,
            "messages": row.message_count,
            "first": row.first_at,
            "last": row.last_at,
            "channel": row.channel,
            "text": text.text if text else None,
        }


def _alerts(url: str, cid: str) -> list[tuple[str, str]]:
    with db.session_scope(url, write=False) as s:
        return [(a.level, a.source_key) for a in s.execute(sa.select(Alert).where(Alert.conversation_id == cid).order_by(Alert.id)).scalars()]


def _deliver(consumer: Consumer, rows: list[dict]) -> None:
    senders = set()
    for row in rows:
        parsed = parse_message(_broker_body(row))
        assert parsed is not None
        consumer.add(*parsed)
        senders.add(parsed[0])
    consumer.apply(senders)


def test_page_views_never_write_summaries(staff, db_url, db_connection) -> None:  # type: ignore[no-untyped-def]
    demo.insert_events(db_connection, demo.conversation_events("pv-1", NOW - timedelta(minutes=3), demo.SCENARIOS[0], "rest"))
    for path in ("/conversations", "/dashboard", "/appointments", "/export.csv"):
        assert staff.get(path).status_code == 200
    assert _summary(db_url, "pv-1") is None  # the consumer's job, not the page's
    catch_up(db_url)
    assert _summary(db_url, "pv-1")["level"] == "emergency"


def test_broker_events_delivered_twice_or_also_stored_change_nothing(db_url, db_connection) -> None:  # type: ignore[no-untyped-def]
    rows = demo.conversation_events("bk-1", NOW - timedelta(minutes=2), demo.SCENARIOS[0], "twilio")
    consumer = Consumer(db_url)
    # Published before it was stored: never the case here (the tracker store publishes after its
    # commit, rasa_ext/tracker_store.py), so such an event is not applied, only counted.
    _deliver(consumer, rows)
    assert _summary(db_url, "bk-1") is None and consumer.not_stored == len(rows)
    demo.insert_events(db_connection, rows)  # stored, then published: the real order
    _deliver(consumer, rows)
    once = _summary(db_url, "bk-1")
    assert once["level"] == "emergency" and once["messages"] == 4 and "SS-HUNTER" in once["rules"]
    assert consumer.not_stored == len(rows)  # nothing more: all of them are stored now
    _deliver(consumer, rows)  # delivered again (a redelivery after a lost ack)
    assert _summary(db_url, "bk-1") == once
    consumer.catch_up()  # ... and caught up as well
    assert _summary(db_url, "bk-1") == once
    _deliver(Consumer(db_url), rows)  # a restarted consumer gets them once more: still the same
    assert _summary(db_url, "bk-1") == once
    assert _alerts(db_url, "bk-1") == [("emergency", _alerts(db_url, "bk-1")[0][1])]


def test_catch_up_finds_what_was_stored_while_the_consumer_was_down(db_url, db_connection) -> None:  # type: ignore[no-untyped-def]
    consumer = Consumer(db_url)
    consumer.catch_up()
    demo.insert_events(db_connection, demo.conversation_events("down-1", NOW - timedelta(minutes=1), demo.SCENARIOS[1], "rest"))
    assert _summary(db_url, "down-1") is None
    Consumer(db_url).catch_up()  # the consumer starts again
    assert _summary(db_url, "down-1")["level"] == "urgent"
    assert [level for level, _ in _alerts(db_url, "down-1")] == ["urgent"]


def test_one_alert_per_decision_and_none_for_old_history(db_url, db_connection) -> None:  # type: ignore[no-untyped-def]
    # the action's assessment row and the triage_level slot event of the same turn: one alert
    demo.insert_events(db_connection, demo.conversation_events("al-1", NOW - timedelta(minutes=1), demo.SCENARIOS[0], "rest"))
    with db.session_scope(db_url, write=False) as s:
        slot_ts = s.execute(
            sa.text("SELECT timestamp FROM events WHERE sender_id = 'al-1' AND data LIKE '%triage_level%'")
        ).scalar_one()
    with db.session_scope(db_url) as s:  # written by the action a moment before Rasa stores the slot
        s.add(
            TriageAssessment(
                conversation_id="al-1",
                level="emergency",
                rule_ids=["SS-HUNTER"],
                reasons=["x"],
                medications=[],
                created_at=datetime.fromtimestamp(slot_ts - 0.3, timezone.utc),
            )
        )
    # a conversation of two days ago: history, no alert
    demo.insert_events(db_connection, demo.conversation_events("al-old", NOW - timedelta(days=2), demo.SCENARIOS[0], "rest"))
    catch_up(db_url)
    catch_up(db_url)
    alerts = _alerts(db_url, "al-1")
    assert len(alerts) == 1 and alerts[0][0] == "emergency"
    assert alerts[0][1] == f"slot:{slot_ts:.6f}" or alerts[0][1].startswith("assessment:")
    assert _alerts(db_url, "al-old") == []
    assert _summary(db_url, "al-old")["level"] == "emergency"  # summarised all the same
    # a later, separate emergency in the same conversation is a new alert
    later = demo.conversation_events("al-1", NOW + timedelta(minutes=10), demo.SCENARIOS[0], "rest")
    demo.insert_events(db_connection, later)
    catch_up(db_url)
    assert [level for level, _ in _alerts(db_url, "al-1")] == ["emergency", "emergency"]


def test_malformed_broker_messages_are_refused() -> None:
    assert parse_message(b"not json") is None
    assert parse_message(b"[1, 2]") is None
    assert parse_message(json.dumps({"event": "user", "timestamp": 1.0}).encode()) is None  # no sender
    assert parse_message(json.dumps({"sender_id": "a", "event": "user", "timestamp": "x"}).encode()) is None
    sender, type_name, ts, data = parse_message(json.dumps({"sender_id": "a", "event": "user", "timestamp": 2}).encode())
    assert (sender, type_name, ts) == ("a", "user", 2.0) and "sender_id" not in json.loads(data)


def test_broker_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RABBITMQ_HOST", raising=False)
    assert BrokerSettings.from_env() is None  # single machine: catch-up only
    monkeypatch.setenv("RABBITMQ_HOST", "")
    assert BrokerSettings.from_env() is None
    monkeypatch.setenv("RABBITMQ_HOST", "mq.example")
    monkeypatch.setenv("RABBITMQ_USERNAME", "u")
    monkeypatch.setenv("RABBITMQ_PASSWORD", "p")
    monkeypatch.delenv("CLONUS_EVENT_QUEUE", raising=False)
    monkeypatch.delenv("CLONUS_EVENT_EXCHANGE", raising=False)
    monkeypatch.delenv("RABBITMQ_VHOST", raising=False)
    b = BrokerSettings.from_env()
    assert (b.host, b.port, b.username, b.password, b.queue) == ("mq.example", 5672, "u", "p", "clonus_console_events")
    assert (b.vhost, b.exchange) == ("/", None)  # None: derived from the database when the consumer starts
    monkeypatch.setenv("RABBITMQ_VHOST", "clinic-a")
    monkeypatch.setenv("CLONUS_EVENT_EXCHANGE", "clinic-a-events")
    b = BrokerSettings.from_env()
    assert (b.vhost, b.exchange) == ("clinic-a", "clinic-a-events")


RABBITMQ_HOST = os.environ.get("CLONUS_TEST_RABBITMQ_HOST", "127.0.0.1")


def _publish_like_rasa(queue: str, bodies: list[dict], exchange: str) -> None:
    """Publish through Rasa's own PikaEventBroker (the exchange and queue binding it makes)."""
    import rasa.shared.core.events  # noqa: F401  (the broker uses it; the Rasa server has it loaded)
    from rasa.core.brokers.pika import PikaEventBroker

    async def go() -> None:
        broker = PikaEventBroker(
            host=RABBITMQ_HOST,
            username="guest",
            password="guest",
            port=5672,
            queues=[queue],
            raise_on_failure=True,
            exchange_name=exchange,
        )
        await broker.connect()
        for body in bodies:
            broker.publish(body)
        await asyncio.sleep(0.5)  # publish() schedules the sends on the loop
        await broker.close()

    asyncio.run(go())


def _delete_queue(queue: str, exchange: str | None = None) -> None:
    import aio_pika

    async def go() -> None:
        conn = await aio_pika.connect(host=RABBITMQ_HOST, port=5672, login="guest", password="guest")
        async with conn:
            channel = await conn.channel()
            await channel.queue_delete(queue)
            if exchange:
                await channel.exchange_delete(exchange)

    asyncio.run(go())


# A test queue is bound to an exchange of its test's own; one left behind (a run killed before its
# `finally`) would still be a durable queue for ever.
# RabbitMQ refuses a redeclaration whose durable/auto_delete/exclusive flags differ, and Rasa's
# broker and the consumer both declare it durable in separate connections (so neither flag can be
# set here); the queue's own expiry (`x-expires`, the same argument on both declarations) lets the
# broker delete it once nobody has used it for this long, whatever happened to the test.
TEST_QUEUE_EXPIRES_MS = 30_000


def _expiring_test_queues(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from aio_pika.channel import Channel

    declare = Channel.declare_queue

    async def declare_queue(self, name=None, *, arguments=None, **kwargs):  # type: ignore[no-untyped-def]
        if name and name.startswith("h11c_test_"):
            arguments = {**(arguments or {}), "x-expires": TEST_QUEUE_EXPIRES_MS}
        return await declare(self, name, arguments=arguments, **kwargs)

    monkeypatch.setattr(Channel, "declare_queue", declare_queue)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_events_published_by_rasa_reach_the_console_through_rabbitmq(fresh_db_url, backend: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = fresh_db_url(backend)
    queue = f"h11c_test_{uuid.uuid4().hex[:8]}"
    exchange = f"h11c_test_x_{uuid.uuid4().hex[:8]}"
    _expiring_test_queues(monkeypatch)
    monkeypatch.setenv("RABBITMQ_HOST", RABBITMQ_HOST)
    monkeypatch.setenv("RABBITMQ_USERNAME", "guest")
    monkeypatch.setenv("RABBITMQ_PASSWORD", "guest")
    monkeypatch.setenv("CLONUS_EVENT_QUEUE", queue)
    monkeypatch.setenv("CLONUS_EVENT_EXCHANGE", exchange)
    rows = demo.conversation_events("mq-1", NOW - timedelta(minutes=1), demo.SCENARIOS[0], "twilio")
    bodies = [{"sender_id": r["sender_id"], **json.loads(r["data"])} for r in rows]
    engine = sa.create_engine(url)
    # one conversation stored before the consumer starts: its start-up catch-up shows it
    with engine.begin() as c:
        demo.insert_events(c, demo.conversation_events("mq-0", NOW - timedelta(minutes=2), demo.SCENARIOS[1], "rest"))
    with engine.begin() as c:  # stored, then published (rasa_ext/tracker_store.py): the first three events
        demo.insert_events(c, rows[:3])
    _publish_like_rasa(queue, bodies[:3], exchange)  # the queue exists (Rasa declares and binds it) before the consumer runs
    runner_holder: dict = {}

    def run() -> None:
        async def main() -> None:
            # no catch-up after the start-up one within the test: what follows comes by the broker
            runner = Runner(Consumer(url), BrokerSettings.from_env(), interval=3600.0)
            runner_holder["runner"], runner_holder["loop"] = runner, asyncio.get_running_loop()
            await runner.run()

        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _summary(url, "mq-0") is None:
            time.sleep(0.1)
        assert _summary(url, "mq-0") is not None, "the start-up catch-up did not run"
        with engine.begin() as c:
            demo.insert_events(c, rows[3:])
        _publish_like_rasa(queue, bodies[3:] + bodies[:2], exchange)  # the rest, and two of them a second time
        deadline = time.monotonic() + 10
        summary = None
        while time.monotonic() < deadline:
            summary = _summary(url, "mq-1")
            if summary and summary["messages"] == 4:
                break
            time.sleep(0.1)
        assert summary is not None and summary["messages"] == 4 and summary["level"] == "emergency"
        assert [level for level, _ in _alerts(url, "mq-1")] == ["emergency"]
        assert runner_holder["runner"].consumer.not_stored == 0
    finally:
        runner, loop = runner_holder.get("runner"), runner_holder.get("loop")
        if runner is not None:
            loop.call_soon_threadsafe(runner.stopping.set)
        thread.join(timeout=10)
        engine.dispose()
        _delete_queue(queue, exchange)
