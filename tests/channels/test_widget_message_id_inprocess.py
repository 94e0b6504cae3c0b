"""A widget message sent twice under one `message_id` is processed once (issue 11: HAProxy retries
or redispatches a request whose server died after the turn was stored but before the answer went
out, and the widget resends under the same id).

No trained model: the channel (rasa_ext.channels.widget) runs in process with an agent made of
the real parts the check uses, the project's SQL tracker store (DatabaseUrlTrackerStore, on
SQLite and on PostgreSQL) and Rasa's lock stores (in memory; two AtomicRedisLockStore instances on
the machine's Redis for two servers), and a stand-in processor that stores a turn the way Rasa's
does (the user event with the message's metadata, then a bot message), slowly, and answers
differently each time it runs, so a second processing shows. The real server: test_widget_http.py.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
import uuid
from types import SimpleNamespace

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_ext.channels.widget import MESSAGE_ID_KEY, WidgetInput
from rasa_ext.tracker_store import DatabaseUrlTrackerStore

SECRET = "test-widget-secret-" + uuid.uuid4().hex
TURN_SECONDS = 0.3  # how long the stand-in processor takes between reading and storing a turn


class SlowProcessor:
    """Stores one turn like Rasa's processor: reads the tracker, adds the user event (with the
    message's metadata) and a bot message, sends that message to the output channel, saves."""

    counter = itertools.count(1)

    def __init__(self, store: DatabaseUrlTrackerStore) -> None:
        self.store = store
        self.runs = 0

    async def handle_message(self, message):
        self.runs += 1
        tracker = await self.tracker_for(message)
        tracker.update(UserUttered(message.text, metadata=message.metadata, input_channel=message.input_channel))
        await asyncio.sleep(TURN_SECONDS)
        bot = BotUttered(f"answer number {next(self.counter)}", data={"buttons": [{"title": "Yes", "payload": "/affirm"}]})
        tracker.update(bot)
        await message.output_channel.send_response(message.sender_id, bot.message())
        await self.store.save(tracker)

    async def tracker_for(self, message):
        return await self.store.get_or_create_tracker(message.sender_id)


class SessionProcessor(SlowProcessor):
    """Stores turns like Rasa 3.6's processor with a session start: the first message of a session
    (of a new conversation, or when `new_session` is set: what an expired session does) is
    preceded by what `action_session_start` stores before the user event, in the order and with
    the timestamps the real server stores them (its rows of a conversation's first turn on
    PostgreSQL: ActionExecuted(action_session_start), BotUttered(the welcome), SessionStarted,
    ..., ActionExecuted(action_listen), stamped in that order), and the session start's message
    is sent to the output channel before the answer, as the real one is. The welcome is stamped
    before SessionStarted, so `tracker_store.retrieve` (from the latest SessionStarted by
    timestamp) does not return it, as on the real server. Unlike the project's (once per
    conversation), this session start greets in every session: its message must count for that
    session's first message only."""

    def __init__(self, store: DatabaseUrlTrackerStore) -> None:
        super().__init__(store)
        self.new_session = False

    async def tracker_for(self, message):
        tracker = await self.store.retrieve(message.sender_id)
        if tracker is None or self.new_session:
            self.new_session = False
            tracker = tracker or DialogueStateTracker(message.sender_id, [])
            stamp = time.time()  # after the events stored before, and (the sleep below) before the user event
            welcome = BotUttered(f"session start number {next(self.counter)}", timestamp=stamp + 0.002)
            for event in (
                ActionExecuted("action_session_start", timestamp=stamp + 0.001),
                welcome,
                SessionStarted(timestamp=stamp + 0.003),
                ActionExecuted("action_listen", timestamp=stamp + 0.004),
            ):
                tracker.update(event)
            await message.output_channel.send_response(message.sender_id, welcome.message())
            await asyncio.sleep(0.005)
        return tracker


class Agent:
    """What the channel reads from `request.app.ctx.agent`; handle_message is Rasa's Agent's."""

    def __init__(self, store, lock_store, processor=None) -> None:
        self.tracker_store, self.lock_store = store, lock_store
        self.processor = (processor or SlowProcessor)(store)

    def is_ready(self) -> bool:
        return True

    async def handle_message(self, message):
        async with self.lock_store.lock(message.sender_id):
            return await self.processor.handle_message(message)


class Request:
    def __init__(self, agent: Agent, body: dict) -> None:
        self.app = SimpleNamespace(ctx=SimpleNamespace(agent=agent))
        self.body = json.dumps(body).encode()
        self.headers = {"Content-Type": "application/json"}
        self.ip, self.remote_addr = "127.0.0.1", ""


class Server:
    """One Rasa server: its own channel, tracker store (engine) and lock store instance."""

    def __init__(self, url: str, lock_store, processor=None) -> None:
        self.channel = WidgetInput(secret=SECRET, limits={"per_conversation": "1000/minute", "per_ip": "1000/minute"})
        self.agent = Agent(DatabaseUrlTrackerStore(domain=Domain.empty(), host=url), lock_store, processor)

    async def post(self, conversation: str, text: str, message_id=None):
        body = {"conversation": conversation, "message": text}
        if message_id is not None:
            body[MESSAGE_ID_KEY] = message_id
        try:
            return await self.channel._receive(Request(self.agent, body), self.agent.handle_message)
        except Exception as refusal:  # noqa: BLE001 - the channel's Refusal: its status
            return getattr(refusal, "status", None), getattr(refusal, "error", repr(refusal))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.sqlite3'}"
        return
    from tests.e2e.stack import create_postgres_database, drop_postgres_database

    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


def redis_lock_store(prefix: str):
    pytest.importorskip("redis")
    from rasa_ext.lock_store import AtomicRedisLockStore

    return AtomicRedisLockStore(
        host=os.environ.get("REDIS_HOST", "127.0.0.1"),
        port=int(os.environ.get("REDIS_PORT", "6379")),
        db=int(os.environ.get("CLONUS_TEST_REDIS_DB", "3")),
        key_prefix=prefix,
    )


def stored_user_events(server: Server, sender: str, text: str):
    async def read():
        tracker = await server.agent.tracker_store.retrieve_full_tracker(sender)
        return [e for e in tracker.events if isinstance(e, UserUttered) and e.text == text]

    return asyncio.run(read())


def conversation(server: Server):
    token = server.channel.mint()
    return token, token.split(".")[0]


def test_the_same_message_id_sent_twice_one_after_the_other(database_url):
    server = Server(database_url, InMemoryLockStore())
    token, sender = conversation(server)
    message_id = str(uuid.uuid4())
    first = asyncio.run(server.post(token, "what are the treatments 0", message_id))
    again = asyncio.run(server.post(token, "what are the treatments 0", message_id))
    assert first[0] == 200 and first[1] and first[1][0]["text"].startswith("answer number")
    assert again == first  # the stored turn's reply, buttons included
    assert server.agent.processor.runs == 1
    events = stored_user_events(server, sender, "what are the treatments 0")
    assert len(events) == 1 and events[0].metadata[MESSAGE_ID_KEY] == message_id


def test_a_sessions_first_message_sent_twice_gets_its_session_start_message_too(database_url):
    """Rasa stores a session start's message (the welcome) before the user event of the session's
    first message: the replay of that message gets it too, as its first delivery did; a later
    message's replay does not, and the first message of a later session gets that session's
    start message, not the previous turn's answer."""
    server = Server(database_url, InMemoryLockStore(), SessionProcessor)
    token, sender = conversation(server)
    opening, later, next_session = (str(uuid.uuid4()) for _ in range(3))
    first = asyncio.run(server.post(token, "hello", opening))
    assert first[0] == 200 and [m["text"].split(" number")[0] for m in first[1]] == ["session start", "answer"]
    assert asyncio.run(server.post(token, "hello", opening)) == first
    second = asyncio.run(server.post(token, "what are the treatments", later))
    assert [m["text"].split(" number")[0] for m in second[1]] == ["answer"]
    assert asyncio.run(server.post(token, "what are the treatments", later)) == second
    server.agent.processor.new_session = True  # the session expired
    third = asyncio.run(server.post(token, "my foot is jerking", next_session))
    assert [m["text"].split(" number")[0] for m in third[1]] == ["session start", "answer"]
    assert asyncio.run(server.post(token, "my foot is jerking", next_session)) == third
    assert server.agent.processor.runs == 3
    assert len(stored_user_events(server, sender, "hello")) == 1


def test_the_same_message_id_sent_twice_at_once_to_one_server(database_url):
    server = Server(database_url, InMemoryLockStore())
    token, sender = conversation(server)
    message_id = uuid.uuid4().hex.upper()  # 32 hex digits are a UUID too; kept lower-case

    async def both():
        return await asyncio.gather(*(server.post(token, "my foot is jerking", message_id) for _ in range(2)))

    first, second = asyncio.run(both())
    assert first[0] == second[0] == 200 and first == second
    assert server.agent.processor.runs == 1
    events = stored_user_events(server, sender, "my foot is jerking")
    assert len(events) == 1 and events[0].metadata[MESSAGE_ID_KEY] == message_id.lower()


def test_the_same_message_id_at_once_on_two_servers_with_the_redis_lock(database_url):
    prefix = "clonustestmid" + uuid.uuid4().hex[:8]
    one = Server(database_url, redis_lock_store(prefix))
    two = Server(database_url, redis_lock_store(prefix))
    token, sender = conversation(one)
    message_id = str(uuid.uuid4())

    async def both():
        return await asyncio.gather(
            one.post(token, "what are the treatments 0", message_id), two.post(token, "what are the treatments 0", message_id)
        )

    first, second = asyncio.run(both())
    assert first[0] == second[0] == 200 and first == second
    assert one.agent.processor.runs + two.agent.processor.runs == 1
    assert len(stored_user_events(one, sender, "what are the treatments 0")) == 1


def test_other_ids_and_messages_without_an_id_are_each_processed(database_url):
    server = Server(database_url, InMemoryLockStore())
    token, sender = conversation(server)
    replies = [
        asyncio.run(server.post(token, "hello", None)),
        asyncio.run(server.post(token, "hello", None)),
        asyncio.run(server.post(token, "hello", str(uuid.uuid4()))),
        asyncio.run(server.post(token, "hello", str(uuid.uuid4()))),
    ]
    assert all(status == 200 for status, _ in replies)
    assert len({json.dumps(r) for _, r in replies}) == 4  # four turns, four answers
    assert server.agent.processor.runs == 4
    assert len(stored_user_events(server, sender, "hello")) == 4


@pytest.mark.parametrize(
    "bad", ["", "not-a-uuid", "1234", 42, ["a"], {"id": 1}, "g" * 32, str(uuid.uuid4()) + "0", " " + str(uuid.uuid4())]
)
def test_a_malformed_message_id_is_refused(bad, tmp_path):
    server = Server(f"sqlite:///{tmp_path / 'tracker.sqlite3'}", InMemoryLockStore())
    token, _ = conversation(server)
    status, error = asyncio.run(server.post(token, "hello", bad))
    assert status == 400 and error == "invalid message_id"
    assert server.agent.processor.runs == 0
