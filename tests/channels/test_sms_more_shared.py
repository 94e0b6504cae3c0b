"""The SMS channel's "Reply MORE" pages live in the database (clonus_sms_more_page, migration 0013):
MORE reaching another server, or arriving after a restart, gets the next page, each page once; the
pages expire; their text never reaches a log. Two TwilioSmsInput instances (two servers) on one
real database, SQLite and PostgreSQL (migrated; the limits in memory: REDIS_HOST unset)."""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from datetime import timedelta
from types import SimpleNamespace

import pytest

from bot import db
from rasa_ext.channels import sms
from rasa_ext.channels.twilio_sms import MORE_KEEP, TwilioSmsInput
from tests.channels.conftest import sign

TOKEN = "more-pages-token"
URL = "http://h/webhooks/twilio_sms/webhook"
# A distinctive word in every sentence, to look for in the logs.
LONG = " ".join(f"Quorbital clonus fact number {i} is here." for i in range(40))


class FakeRequest:
    def __init__(self, params: dict) -> None:
        self.url, self.path, self.query_string = URL, urllib.parse.urlsplit(URL).path, ""
        self.body = urllib.parse.urlencode(params).encode()
        self.headers = {"X-Twilio-Signature": sign(TOKEN, URL, params)}
        self.app = SimpleNamespace(ctx=SimpleNamespace(agent=None))
        self.ip, self.remote_addr = "198.51.100.9", ""


class Assistant:
    """Stands in for the Rasa server: a long answer to everything, and a record of what reached it."""

    def __init__(self) -> None:
        self.seen = []

    async def __call__(self, message) -> None:
        self.seen.append(message.text)
        await message.output_channel.send_response(message.sender_id, {"text": LONG})


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, fresh_db_url, monkeypatch):
    monkeypatch.delenv("REDIS_HOST", raising=False)
    return fresh_db_url(request.param)


def server(url: str) -> TwilioSmsInput:
    return TwilioSmsInput(auth_token=TOKEN, database_url=url, limits={"per_sender": "100/minute"})


def say(channel: TwilioSmsInput, phone: str, body: str, assistant: Assistant) -> str:
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": phone, "Body": body}
    resp = asyncio.run(channel._receive(FakeRequest(params), assistant))
    assert resp.status == 200
    [message] = ET.fromstring(resp.body).findall("Message")  # noqa: S314
    return message.text


def read(pages) -> list:
    return " ".join(p.replace("\n" + sms.MORE_HINT, "") for p in pages).split()


def test_more_on_the_other_server_gets_the_next_page_each_once(database, caplog):
    one, two = server(database), server(database)
    assistant = Assistant()
    phone = "+13125550151"
    with caplog.at_level(logging.DEBUG):
        pages = [say(one, phone, "tell me about clonus", assistant)]
        servers = [two, one]
        while pages[-1].endswith(sms.MORE_HINT):
            pages.append(say(servers[len(pages) % 2], phone, "MORE", assistant))
            assert len(pages) < 20
    assert len(pages) >= 4 and all(sms.sms_length(p) <= sms.SMS_SHORT_CHARS for p in pages)
    assert read(pages) == LONG.split()  # nothing lost, nothing repeated, in order
    assert assistant.seen == ["tell me about clonus"]  # every MORE was answered from the database
    # Nothing left: MORE is a message like any other again.
    say(two, phone, "MORE", assistant)
    assert assistant.seen == ["tell me about clonus", "MORE"]
    assert "Quorbital" not in caplog.text and "13125550151" not in caplog.text


def test_pages_survive_a_restart(database):
    phone = "+13125550152"
    assistant = Assistant()
    first = say(server(database), phone, "tell me about clonus", assistant)
    assert first.endswith(sms.MORE_HINT)
    db.dispose_engines()  # the process's connections gone, as after a restart
    second = say(server(database), phone, "more please", assistant)  # a new channel: a new process
    assert assistant.seen == ["tell me about clonus"]
    assert read([first, second]) == LONG.split()[: len(read([first, second]))]


class TopicalAssistant(Assistant):
    """A different long answer each time: every sentence of answer n names Topic<n>."""

    async def __call__(self, message) -> None:
        self.seen.append(message.text)
        text = " ".join(f"Topic{len(self.seen)} clonus fact number {i} is here." for i in range(40))
        await message.output_channel.send_response(message.sender_id, {"text": text})


def test_a_new_reply_replaces_the_rest_of_the_old_one(database):
    one, two = server(database), server(database)
    phone = "+13125550153"
    assistant = TopicalAssistant()
    say(one, phone, "tell me about clonus", assistant)
    first = say(two, phone, "what causes it", assistant)  # a new answer (on the other server): its own pages
    second = say(one, phone, "MORE", assistant)
    assert "Topic2" in first and "Topic2" in second and "Topic1" not in second


def test_pages_expire(database):
    assert MORE_KEEP == timedelta(hours=24)  # what the README promises
    one = server(database)
    one.more_keep = timedelta(seconds=1)
    phone = "+13125550154"
    assistant = Assistant()
    assert say(one, phone, "tell me about clonus", assistant).endswith(sms.MORE_HINT)
    time.sleep(1.3)
    say(one, phone, "MORE", assistant)
    assert assistant.seen == ["tell me about clonus", "MORE"]  # expired: the assistant got MORE


def test_numbers_have_their_own_pages(database):
    one, two = server(database), server(database)
    assistant = Assistant()
    say(one, "+13125550155", "tell me about clonus", assistant)
    say(one, "+13125550156", "hello", assistant)
    page = say(two, "+13125550156", "MORE", assistant)
    assert assistant.seen == ["tell me about clonus", "hello"]
    assert page == sms.paginate(sms.render_turn([{"text": LONG}]))[1]  # the second page of that number's reply
    say(two, "+13125550155", "MORE", assistant)  # and the other number's pages are still there
    assert assistant.seen == ["tell me about clonus", "hello"]
