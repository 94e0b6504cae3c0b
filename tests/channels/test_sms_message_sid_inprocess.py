"""An SMS delivered twice under one MessageSid (a Twilio retry, or HAProxy's `retry-on` resending
a request whose server died or timed out: scripts/haproxy.cluster.cfg) is processed once and both
deliveries get the turn's reply; a MessageSid whose first delivery was recorded but never stored
(the server died mid-turn) is processed, not dropped (issue 11: nothing lost, nothing twice).

No trained model: the channel (rasa_ext.channels.twilio_sms) runs in process on a real migrated
database (SQLite and PostgreSQL: the MessageSid table and the tracker store), with the agent of
test_widget_message_id_inprocess.py: the project's SQL tracker store, Rasa's lock stores (in
memory; two AtomicRedisLockStore instances on the machine's Redis for two servers) and a slow
processor that stores a turn the way Rasa's does and answers differently each time it runs.
"""

from __future__ import annotations

import asyncio
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered

from rasa_ext.channels.twilio_sms import MESSAGE_SID_KEY, TwilioSmsInput, _record_message_sid
from rasa_ext.tracker_store import DatabaseUrlTrackerStore
from tests.channels.conftest import sign
from tests.channels.test_widget_message_id_inprocess import Agent, SessionProcessor, redis_lock_store

TOKEN = "message-sid-token"
URL = "http://h/webhooks/twilio_sms/webhook"


class Request:
    def __init__(self, agent: Agent, params: dict) -> None:
        self.app = SimpleNamespace(ctx=SimpleNamespace(agent=agent))
        self.url, self.path, self.query_string = URL, urllib.parse.urlsplit(URL).path, ""
        self.body = urllib.parse.urlencode(params).encode()
        self.headers = {"X-Twilio-Signature": sign(TOKEN, URL, params)}
        self.ip, self.remote_addr = "198.51.100.7", ""


class Server:
    """One Rasa server: its own SMS channel, tracker store (engine) and lock store instance."""

    def __init__(self, url: str, lock_store, processor=None) -> None:
        self.url = url
        self.channel = TwilioSmsInput(auth_token=TOKEN, database_url=url, limits={"per_sender": "100/minute"})
        self.agent = Agent(DatabaseUrlTrackerStore(domain=Domain.empty(), host=url), lock_store, processor)

    async def post(self, phone: str, text: str, message_sid: str) -> list:
        params = {"MessageSid": message_sid, "From": phone, "To": "+13125550100", "Body": text}
        resp = await self.channel._receive(Request(self.agent, params), self.agent.handle_message)
        assert resp.status == 200
        return [m.text for m in ET.fromstring(resp.body).findall("Message")]  # noqa: S314 - our TwiML


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, fresh_db_url, monkeypatch):
    monkeypatch.delenv("REDIS_HOST", raising=False)  # the rate limits in memory
    return fresh_db_url(request.param)


def phone() -> str:
    return f"+1312555{uuid.uuid4().int % 10_000:04d}"


def sid() -> str:
    return "SM" + uuid.uuid4().hex


def user_events(server: Server, sender: str, text: str) -> list:
    async def read():
        tracker = await server.agent.tracker_store.retrieve_full_tracker(sender)
        return [e for e in tracker.events if isinstance(e, UserUttered) and e.text == text]

    return asyncio.run(read())


def test_the_same_message_sid_twice_is_processed_once_and_both_get_the_reply(url):
    server, number, message_sid = Server(url, InMemoryLockStore()), phone(), sid()
    first = asyncio.run(server.post(number, "my calf keeps jerking", message_sid))
    again = asyncio.run(server.post(number, "my calf keeps jerking", message_sid))
    assert first and first[0].startswith("answer number")
    assert again == first
    assert server.agent.processor.runs == 1
    [event] = user_events(server, number, "my calf keeps jerking")
    assert event.metadata[MESSAGE_SID_KEY] == message_sid


def test_a_sessions_first_message_twice_gets_the_reply_with_its_session_start_message(url):
    """The session start's message (the welcome) is stored before the first message's user event
    (tests/channels/test_widget_message_id_inprocess.py, SessionProcessor): a retry of that SMS
    gets the same reply as its first delivery, the welcome included."""
    server, number, message_sid = Server(url, InMemoryLockStore(), SessionProcessor), phone(), sid()
    first = asyncio.run(server.post(number, "hello", message_sid))
    assert len(first) == 1 and first[0].startswith("session start number") and "answer number" in first[0]
    assert asyncio.run(server.post(number, "hello", message_sid)) == first
    later = asyncio.run(server.post(number, "what helps clonus", sid()))
    assert later[0].startswith("answer number")
    assert server.agent.processor.runs == 2


def test_the_same_message_sid_at_once_on_two_servers_is_processed_once(url):
    prefix = "clonustestsid" + uuid.uuid4().hex[:8]
    one, two = Server(url, redis_lock_store(prefix)), Server(url, redis_lock_store(prefix))
    number, message_sid = phone(), sid()

    async def both():
        return await asyncio.gather(
            one.post(number, "what helps clonus", message_sid), two.post(number, "what helps clonus", message_sid)
        )

    first, second = asyncio.run(both())
    assert first and first == second
    assert one.agent.processor.runs + two.agent.processor.runs == 1
    assert len(user_events(one, number, "what helps clonus")) == 1


def test_a_message_sid_recorded_by_a_server_that_died_before_storing_the_turn_is_processed(url):
    server, number, message_sid = Server(url, InMemoryLockStore()), phone(), sid()
    assert _record_message_sid(message_sid, url)  # the first delivery got this far, then its server died
    reply = asyncio.run(server.post(number, "my ankle beats when i stand", message_sid))
    assert reply and reply[0].startswith("answer number")
    assert server.agent.processor.runs == 1
    assert len(user_events(server, number, "my ankle beats when i stand")) == 1


def test_other_message_sids_with_the_same_text_are_each_processed(url):
    server, number = Server(url, InMemoryLockStore()), phone()
    replies = [asyncio.run(server.post(number, "hello", sid())) for _ in range(3)]
    assert len({r[0] for r in replies}) == 3  # a person sending it again is a new message
    assert server.agent.processor.runs == 3


@pytest.mark.parametrize("text", ["HELP", "STOP", "MORE"])
def test_a_repeated_keyword_or_more_is_not_done_twice(url, text):
    server, number, message_sid = Server(url, InMemoryLockStore()), phone(), sid()
    asyncio.run(server.post(number, text, message_sid))
    assert asyncio.run(server.post(number, text, message_sid)) == []
