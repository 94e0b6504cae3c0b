"""TwilioSmsInput without a server: the configured public URL, no token at all, the REST-API
reply mode, and a failing assistant. (The webhook over real HTTP is in test_sms_webhook.py.)"""

from __future__ import annotations

import asyncio
import logging
import secrets
import urllib.parse
from types import SimpleNamespace
from typing import List

import pytest

from rasa_ext.channels.twilio_sms import TwilioSmsInput, parse_form
from tests.channels.conftest import sign

TOKEN = "unit-token"
PATH = "/webhooks/twilio_sms/webhook"


class FakeRequest:
    def __init__(self, url: str, params: dict, signature: str = None):
        parts = urllib.parse.urlsplit(url)
        self.url = url
        self.path = parts.path
        self.query_string = parts.query
        self.body = urllib.parse.urlencode(params).encode()
        self.headers = {"X-Twilio-Signature": signature} if signature else {}
        self.app = SimpleNamespace(ctx=SimpleNamespace(agent=None))
        self.ip, self.remote_addr = "127.0.0.1", ""


class FakeSender:
    def __init__(self):
        self.sent: List[tuple] = []

    async def send(self, to, pieces):
        self.sent.append((to, pieces))


@pytest.fixture(autouse=True)
def no_database(monkeypatch):
    """Opt-outs in memory: these tests are about the channel, not bot.db."""
    store = {}

    async def opted_out(self, phone):
        return store.get(phone, False)

    async def set_opt_out(self, phone, value):
        store[phone] = value

    seen = set()

    async def first_delivery(self, message_sid):
        if message_sid in seen:
            return False
        seen.add(message_sid)
        return True

    monkeypatch.setattr(TwilioSmsInput, "_opted_out", opted_out)
    monkeypatch.setattr(TwilioSmsInput, "_set_opt_out", set_opt_out)
    monkeypatch.setattr(TwilioSmsInput, "_first_delivery", first_delivery)

    async def save_pages(self, phone, pages):
        # Only where a test gives no database of its own (the pages on a real one: test_sms_more_shared.py).
        if self.database_url is None:
            store[("pages", phone)] = list(pages)
        else:
            await original_save(self, phone, pages)

    async def take_page(self, phone):
        if self.database_url is None:
            pages = store.get(("pages", phone)) or []
            return pages.pop(0) if pages else None
        return await original_take(self, phone)

    original_save, original_take = TwilioSmsInput._save_pages, TwilioSmsInput._take_page
    monkeypatch.setattr(TwilioSmsInput, "_save_pages", save_pages)
    monkeypatch.setattr(TwilioSmsInput, "_take_page", take_page)
    return store


def params(body="hello", phone="+13125550123"):
    return {"MessageSid": "SM" + secrets.token_hex(16), "From": phone, "Body": body}


async def echo(message):
    await message.output_channel.send_response(message.sender_id, {"text": f"got {len(message.text)} chars"})


def receive(channel, request, handler=echo):
    return asyncio.run(channel._receive(request, handler))


def test_public_url_behind_a_proxy_is_what_is_signed():
    public = "https://chat.clinic.example/webhooks/twilio_sms/webhook"
    channel = TwilioSmsInput(auth_token=TOKEN, webhook_url=public)
    p = params()
    # The server sees http://10.0.0.5:5005/...; Twilio signed the public https URL.
    ok = FakeRequest("http://10.0.0.5:5005" + PATH, p, sign(TOKEN, public, p))
    assert receive(channel, ok).status == 200
    seen_by_server = FakeRequest(
        "http://10.0.0.5:5005" + PATH, p, sign(TOKEN, "http://10.0.0.5:5005" + PATH, p)
    )
    assert receive(channel, seen_by_server).status == 403


def test_public_base_url_gets_the_request_path():
    channel = TwilioSmsInput(auth_token=TOKEN, webhook_url="https://chat.clinic.example/")
    request = FakeRequest("http://127.0.0.1:5005" + PATH + "?a=1", {})
    assert channel.signed_url(request) == "https://chat.clinic.example" + PATH + "?a=1"
    full = TwilioSmsInput(auth_token=TOKEN, webhook_url="https://x.example/prefix" + PATH)
    assert full.signed_url(request) == "https://x.example/prefix" + PATH


def test_without_a_token_everything_is_refused_and_one_warning_logged(caplog):
    with caplog.at_level(logging.WARNING):
        channel = TwilioSmsInput.from_credentials({})  # TWILIO_AUTH_TOKEN unset by the fixture below
    assert [r for r in caplog.records if "TWILIO_AUTH_TOKEN" in r.getMessage()]
    p = params()
    for signature in (None, "", sign("x", "http://h" + PATH, p), "anything"):
        assert receive(channel, FakeRequest("http://h" + PATH, p, signature)).status == 403


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("TWILIO_AUTH_TOKEN", "TWILIO_WEBHOOK_URL", "TWILIO_ACCOUNT_SID", "TWILIO_NUMBER"):
        monkeypatch.delenv(name, raising=False)


def test_api_mode_answers_at_once_and_sends_through_the_rest_api():
    sender = FakeSender()
    channel = TwilioSmsInput(auth_token=TOKEN, reply_mode="api", api_sender=sender)
    p = params("hello")
    url = "http://h" + PATH

    async def run():
        resp = await channel._receive(FakeRequest(url, p, sign(TOKEN, url, p)), echo)
        await asyncio.gather(*list(channel._tasks))
        return resp

    resp = asyncio.run(run())
    assert resp.status == 200 and b"<Message>" not in resp.body
    assert sender.sent == [("+13125550123", ["got 5 chars"])]


def test_api_mode_needs_account_and_sender_settings(monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    with pytest.raises(ValueError):
        TwilioSmsInput.from_credentials({"reply_mode": "api"})
    with pytest.raises(ValueError):
        TwilioSmsInput(auth_token=TOKEN, reply_mode="carrier-pigeon")


def test_failing_assistant_still_gives_the_emergency_number():
    channel = TwilioSmsInput(auth_token=TOKEN)
    p = params("my legs are jerking")
    url = "http://h" + PATH

    async def broken(message):
        raise RuntimeError("action server down: " + message.text)

    resp = receive(channel, FakeRequest(url, p, sign(TOKEN, url, p)), broken)
    assert resp.status == 200
    assert b"911" in resp.body


def test_failing_assistant_does_not_log_the_message(caplog):
    channel = TwilioSmsInput(auth_token=TOKEN)
    p = params("secret words about my medicines")
    url = "http://h" + PATH

    async def broken(message):
        raise RuntimeError("failed on: " + message.text)

    with caplog.at_level(logging.INFO):
        receive(channel, FakeRequest(url, p, sign(TOKEN, url, p)), broken)
    logged = caplog.text
    assert "secret words" not in logged and "+13125550123" not in logged
    assert "RuntimeError" in logged and "+1********23" in logged


def test_long_reply_is_sent_320_characters_at_a_time_on_more(fresh_db_url):
    # Issue 10: an SMS reply is at most 320 characters unless the person asks for more (it was
    # split into 1,600-character messages before). The pages wait in the database (migration 0013).
    import xml.etree.ElementTree as ET

    channel = TwilioSmsInput(auth_token=TOKEN, database_url=fresh_db_url("sqlite"))
    url = "http://h" + PATH
    long_text = " ".join(f"Clonus fact number {i}." for i in range(60))  # a few pages: under the per-number rate limit

    async def verbose(message):
        await message.output_channel.send_response(message.sender_id, {"text": long_text})

    def say(body):
        p = params(body)
        resp = receive(channel, FakeRequest(url, p, sign(TOKEN, url, p)), verbose)
        return [m.text for m in ET.fromstring(resp.body).findall("Message")]  # noqa: S314

    pages = [say("tell me everything")]
    while "Reply MORE" in pages[-1][0]:
        pages.append(say("MORE"))
    assert all(len(page) == 1 and len(page[0]) <= 320 for page in pages)
    read = " ".join(page[0].replace("\nReply MORE for the rest.", "") for page in pages)
    assert read.split() == long_text.split()  # nothing lost, nothing repeated


def test_parse_form_keeps_blank_values_and_rejects_non_utf8():
    form = parse_form(b"Body=&From=%2B13125550123&Body=x")
    assert form.getall("Body") == ["", "x"] and form.first("From") == "+13125550123"
    assert parse_form(b"Body=\xff\xfe") is None
    assert parse_form("Body=caf\u00e9".encode("latin-1")) is None
