"""The cluster shape (`make run-cluster`) with real processes: HAProxy, 2 Rasa servers, 2 action
servers, the console, on the machine's PostgreSQL, Redis and RabbitMQ. One cluster for the module
(two Rasa servers take ~2.4 GB and minutes to load the model); the tests run in file order and the
one that kills a server comes after the others, Ctrl-C last."""

from __future__ import annotations

import asyncio
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.cluster.cluster import Cluster, broker_kwargs, new_phone, newest_model, sender_of

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cluster():
    model = newest_model()
    assert model is not None, "no trained model in models/ (make test trains one first; these tests never train)"
    cluster = Cluster(model)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.cleanup()


def user_and_bot(events):
    """The conversation as (kind, text) after the session start: 'user' / 'bot' events only."""
    return [(e["event"], e.get("text")) for e in events if e["event"] in ("user", "bot")]


def assert_turns_not_interleaved(events, texts):
    """Each user message of `texts` is stored once, and the bot's answers to it come before the next
    user message: the two turns ran one after the other, not at once."""
    users = [e for e in events if e["event"] == "user" and e.get("text") in texts]
    assert sorted(e["text"] for e in users) == sorted(texts), f"stored user messages: {[e['text'] for e in users]}"
    kinds = [e["event"] for e in events if e["event"] in ("user", "bot", "action")]
    # after every user message: at least one action, then an action_listen before the next user message
    sequence = [(e["event"], e.get("name")) for e in events if e["event"] in ("user", "action")]
    for i, (kind, _) in enumerate(sequence):
        if kind == "user":
            rest = sequence[i + 1:]
            nxt = next((j for j, (k, _) in enumerate(rest) if k == "user"), len(rest))
            assert ("action", "action_listen") in rest[:nxt], f"a turn was cut by another: {sequence}"
    assert kinds.count("user") >= 2
    ids = [e["id"] for e in events]
    assert ids == sorted(ids)
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps), "events stored out of order"


def replies_match_store(events, text, reply_texts):
    """The bot texts stored right after user message `text` are the ones the HTTP reply carried."""
    seq = user_and_bot(events)
    i = next(i for i, (k, t) in enumerate(seq) if k == "user" and t == text)
    stored = []
    for kind, t in seq[i + 1:]:
        if kind == "user":
            break
        stored.append(t)
    return [t for t in stored if t] == [t for t in reply_texts if t]


def test_two_messages_at_once_to_two_servers_widget(cluster):
    """Per conversation, two messages leave at the same moment, one to each Rasa server directly."""
    conversations = [cluster.new_conversation() for _ in range(4)]
    for conv in conversations:
        assert cluster.widget(conv, "/greet").status_code == 200
    pairs = [(conv, f"what is clonus {i}a", f"what causes clonus {i}b") for i, conv in enumerate(conversations)]
    with ThreadPoolExecutor(8) as pool:
        futures = []
        for conv, a, b in pairs:
            futures.append((conv, a, pool.submit(cluster.widget, conv, a, cluster.server_url(1))))
            futures.append((conv, b, pool.submit(cluster.widget, conv, b, cluster.server_url(2))))
        results = [(conv, text, f.result()) for conv, text, f in futures]
    for _conv, _text, resp in results:
        assert resp.status_code == 200, (resp.status_code, resp.text[:300])
        assert resp.json(), "a message got no reply"
    for conv, a, b in pairs:
        events = cluster.events(sender_of(conv))
        assert_turns_not_interleaved(events, [a, b])
    for conv, text, resp in results:
        events = cluster.events(sender_of(conv))
        assert replies_match_store(events, text, [m.get("text") for m in resp.json()]), text


def test_two_messages_at_once_to_two_servers_sms(cluster):
    phones = [new_phone() for _ in range(3)]
    for phone in phones:
        assert cluster.sms(phone, "hello").status_code == 200
    with ThreadPoolExecutor(6) as pool:
        futures = []
        for i, phone in enumerate(phones):
            futures.append((phone, f"what is clonus {i}", pool.submit(cluster.sms, phone, f"what is clonus {i}", cluster.server_url(1))))
            futures.append((phone, f"is it dangerous {i}", pool.submit(cluster.sms, phone, f"is it dangerous {i}", cluster.server_url(2))))
        results = [(phone, text, f.result()) for phone, text, f in futures]
    for _phone, _text, resp in results:
        assert resp.status_code == 200 and "<Message>" in resp.text, (resp.status_code, resp.text[:300])
    for i, phone in enumerate(phones):
        assert_turns_not_interleaved(cluster.events(phone), [f"what is clonus {i}", f"is it dangerous {i}"])


async def _collect(cluster, send, sender_id, want_text, timeout=20.0, expect_status=200):
    """Binds a queue of the test's own to the cluster's fanout exchange (CLONUS_EVENT_EXCHANGE; the
    console's queue may have a consumer), sends, and returns [(event, stored rows of the
    conversation when it arrived)]."""
    import aio_pika

    connection = await aio_pika.connect(**broker_kwargs())
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(cluster.exchange, ensure=True)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, "")
        loop = asyncio.get_running_loop()
        resp = await loop.run_in_executor(None, send)
        assert resp.status_code == expect_status, resp.text[:300]
        got = []
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            message = await queue.get(fail=False)
            if message is None:
                if any(e.get("event") == "action" and e.get("name") == "action_listen" for e, _ in got):
                    break
                await asyncio.sleep(0.05)
                continue
            await message.ack()
            event = json.loads(message.body)
            if event.get("sender_id") != sender_id:
                continue
            stored = await loop.run_in_executor(None, cluster.events, sender_id)
            got.append((event, stored))
        return got


def test_an_event_reaches_the_broker_after_it_is_stored(cluster):
    conv = cluster.new_conversation()
    sender = sender_of(conv)
    text = "what is clonus exactly"
    got = asyncio.run(_collect(cluster, lambda: cluster.widget(conv, text), sender, text))
    users = [(e, stored) for e, stored in got if e["event"] == "user" and e.get("text") == text]
    assert users, f"the user message never reached the broker: {[e['event'] for e, _ in got]}"
    event, stored = users[0]
    assert any(s["event"] == "user" and s.get("text") == text and s["timestamp"] == event["timestamp"] for s in stored), \
        "the event was published before it was stored"
    assert any(e["event"] == "bot" for e, _ in got)

    # The console's queue is declared (durable) and bound: it holds the events while no consumer runs.
    async def queue_state():
        import aio_pika

        connection = await aio_pika.connect(**broker_kwargs())
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(cluster.queue, durable=True, passive=True)
            return queue.declaration_result.message_count, queue.declaration_result.consumer_count

    count, consumers = asyncio.run(queue_state())
    if consumers == 0:
        assert count > 0, "the console's queue got nothing"


def test_a_turn_the_database_refused_never_reaches_the_broker(cluster):
    """The events table takes no writes (reads go on: an EXCLUSIVE table lock), so the turn is
    refused (503, "please send it again") after the tracker was read: Rasa's own save would have
    published its events already. Then the resend is stored and published once."""
    conv = cluster.new_conversation()
    sender = sender_of(conv)
    # The first turn's events are published after its save, possibly after its reply: wait for
    # them (up to its action_listen), so that only the refused turn's could arrive below.
    asyncio.run(_collect(cluster, lambda: cluster.widget(conv, "/greet"), sender, "/greet"))
    text = "what treatments are there"
    engine = sa.create_engine(cluster.database_url, future=True)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("LOCK TABLE events IN EXCLUSIVE MODE"))

            def refused():
                resp = cluster.widget(conv, text)
                assert resp.status_code == 503, (resp.status_code, resp.text[:300])
                return resp

            got = asyncio.run(_collect(cluster, refused, sender, text, timeout=4.0, expect_status=503))
            conn.rollback()
    finally:
        engine.dispose()
    assert [e["event"] for e, _ in got] == [], "a refused turn was published"
    got = asyncio.run(_collect(cluster, lambda: cluster.widget(conv, text), sender, text))
    users = [e for e, _ in got if e["event"] == "user"]
    assert [e.get("text") for e in users] == [text]
    stored = [e.get("text") for e in cluster.events(sender) if e["event"] == "user"]
    assert stored == ["/greet", text]


def _sms_texts(resp) -> list:
    import xml.etree.ElementTree as ET

    assert resp.status_code == 200, resp.text[:300]
    return [m.text or "" for m in ET.fromstring(resp.content).findall("Message")]  # noqa: S314


def test_the_sms_rate_limit_is_one_budget_across_both_servers(cluster):
    """The per-number limit (10/minute) lives in Redis: 10 messages alternating between the two servers
    are answered, the 11th (on either) is refused with the notice, not answered by the assistant."""
    phone = new_phone()
    replies = [_sms_texts(cluster.sms(phone, f"hello {i}", cluster.server_url(1 + i % 2))) for i in range(11)]
    assert all(texts and "faster than the assistant" not in texts[0] for texts in replies[:10]), replies
    assert "faster than the assistant can answer" in replies[10][0], replies[10]
    stored = [e.get("text") for e in cluster.events(phone) if e["event"] == "user"]
    assert stored == [f"hello {i}" for i in range(10)]


def test_more_on_the_other_server_gets_the_next_page(cluster):
    """The rest of a long SMS reply is in the database: MORE sent to the other server gets page 2."""
    from rasa_ext.channels import sms

    phone = new_phone()
    _sms_texts(cluster.sms(phone, "hi", cluster.server_url(1)))
    [first] = _sms_texts(cluster.sms(phone, "what is clonus", cluster.server_url(1)))
    assert first.rstrip().endswith(sms.MORE_HINT), first
    [second] = _sms_texts(cluster.sms(phone, "MORE", cluster.server_url(2)))
    assert second and second != first
    stored = [e.get("text") for e in cluster.events(phone) if e["event"] == "user"]
    assert "MORE" not in stored  # answered from the stored pages, not by the assistant


def test_a_killed_servers_conversations_go_on_through_haproxy(cluster):
    conversations = [cluster.new_conversation() for _ in range(6)]
    for conv in conversations:
        assert cluster.widget(conv, "/greet").status_code == 200
    texts = {conv: [f"what is clonus {i}", f"what are the treatments {i}", f"how is it tested {i}"]
             for i, conv in enumerate(conversations)}
    replies = {conv: [] for conv in conversations}

    def talk(conv, turn):
        resp = cluster.widget(conv, texts[conv][turn])
        replies[conv].append((texts[conv][turn], resp.status_code, resp.json() if resp.ok else resp.text))

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda c: talk(c, 0), conversations))
        # the second turn of every conversation is in flight when a Rasa server dies (SIGKILL)
        futures = [pool.submit(talk, c, 1) for c in conversations]
        time.sleep(0.3)
        killed = cluster.kill("rasa1")
        for f in futures:
            f.result()
        list(pool.map(lambda c: talk(c, 2), conversations))
    for conv in conversations:
        for text, status, body in replies[conv]:
            assert status == 200 and body, (text, status, body)
        stored = [e.get("text") for e in cluster.events(sender_of(conv)) if e["event"] == "user"]
        assert stored == ["/greet", *texts[conv]], f"lost, duplicated or reordered turns: {stored}"
    # supervisord restarts the killed server
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and cluster.pid("rasa1") in (0, killed):
        time.sleep(1)
    assert cluster.pid("rasa1") not in (0, killed)


def test_ctrl_c_stops_every_process(cluster):
    pids = cluster.pids()
    assert all(pids.values()), pids
    cluster.stop()
    assert cluster.proc.returncode is not None
    alive = []
    for name, pid in pids.items():
        try:
            os.kill(pid, 0)
            alive.append(name)
        except ProcessLookupError:
            pass
    assert not alive, f"still running after Ctrl-C: {alive}"
