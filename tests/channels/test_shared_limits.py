"""The channels' rate limits shared through Redis (rasa_ext.channels.limits), as the cluster shape
configures them (REDIS_HOST / REDIS_PORT / REDIS_DB): two channel instances (two servers) and two
processes share one budget per sender; keys hold no phone number or address in clear; with Redis
down each process falls back to its own limit and messages (an emergency above all) are answered.

Real Redis throughout: the machine's (db CLONUS_TEST_REDIS_DB, default 3, under a key prefix of
this test's own) and, for the outage, a redis-server this test starts and stops on a free port.
The SMS channel's database is a real migrated SQLite file."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest
import redis

from rasa_ext.channels import RateLimiter, limits
from rasa_ext.channels.limits import SharedRateLimiter, channel_limiter, check, key_digest
from rasa_ext.channels.twilio_sms import TwilioSmsInput
from rasa_ext.channels.widget import WidgetInput
from tests.channels.conftest import sign
from tests.e2e.stack import ROOT, free_port

TOKEN = "shared-limits-token"
SMS_URL = "http://h/webhooks/twilio_sms/webhook"
TEST_DB = int(os.environ.get("CLONUS_TEST_REDIS_DB", "3"))


@pytest.fixture
def shared_redis(monkeypatch):
    """The cluster shape's Redis settings, on the machine's Redis, with a key prefix of this test's own."""
    prefix = "clonustest" + uuid.uuid4().hex[:10]
    env = {
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "6379",
        "REDIS_DB": str(TEST_DB),
        "CLONUS_LOCK_KEY_PREFIX": prefix,
        "CLONUS_RATELIMIT_KEY": "test-key-" + uuid.uuid4().hex,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REDIS_PASSWORD", raising=False)
    client = redis.Redis(host="127.0.0.1", port=6379, db=TEST_DB)
    yield SimpleNamespace(prefix=prefix, env=env, client=client)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


@pytest.fixture
def sms_db(fresh_db_url):
    return fresh_db_url("sqlite")


class FakeTwilioRequest:
    def __init__(self, params: dict, ip: str = "198.51.100.7") -> None:
        self.url, self.path, self.query_string = SMS_URL, urllib.parse.urlsplit(SMS_URL).path, ""
        self.body = urllib.parse.urlencode(params).encode()
        self.headers = {"X-Twilio-Signature": sign(TOKEN, SMS_URL, params)}
        self.app = SimpleNamespace(ctx=SimpleNamespace(agent=None))
        self.ip, self.remote_addr = ip, ""


class Assistant:
    """Stands in for the Rasa server behind the channel: answers every message, counts them."""

    def __init__(self) -> None:
        self.seen = []

    async def __call__(self, message) -> None:
        self.seen.append(message.text)
        await message.output_channel.send_response(message.sender_id, {"text": "noted"})


def sms(channel: TwilioSmsInput, phone: str, body: str, assistant: Assistant) -> list:
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": phone, "Body": body}
    resp = asyncio.run(channel._receive(FakeTwilioRequest(params), assistant))
    assert resp.status == 200, resp.body
    return [m.text or "" for m in ET.fromstring(resp.body).findall("Message")]  # noqa: S314


def sms_channel(db_url: str, per_sender: str = "3/minute") -> TwilioSmsInput:
    return TwilioSmsInput(auth_token=TOKEN, database_url=db_url, limits={"per_sender": per_sender})


# ---- shared across instances and processes ------------------------------------------------------


def test_without_redis_the_limits_stay_in_memory(monkeypatch):
    monkeypatch.delenv("REDIS_HOST", raising=False)
    assert isinstance(channel_limiter("widget:per_ip", "5/minute"), RateLimiter)
    assert isinstance(TwilioSmsInput(auth_token=TOKEN).per_sender, RateLimiter)


def test_the_per_sender_limit_holds_across_two_sms_servers(shared_redis, sms_db):
    server1, server2 = sms_channel(sms_db), sms_channel(sms_db)
    assert isinstance(server1.per_sender, SharedRateLimiter)
    assistant = Assistant()
    phone = "+13125550142"
    replies = [sms(server, phone, f"message {i}", assistant) for i, server in enumerate([server1, server2] * 3)]
    # 3/minute for the number, whichever server the load balancer picked: the 4th is refused.
    assert assistant.seen == ["message 0", "message 1", "message 2"]
    assert "faster than the assistant can answer" in replies[3][0] and "911" in replies[3][0]
    assert replies[4] == [] and replies[5] == []  # told once per window, across both servers
    # another number has its own budget
    assert sms(server2, "+13125550143", "hello", assistant) == ["noted"]


def test_an_emergency_over_the_shared_limit_still_gets_its_instructions(shared_redis, sms_db):
    server1, server2 = sms_channel(sms_db, "1/minute"), sms_channel(sms_db, "1/minute")
    assistant = Assistant()
    phone = "+13125550144"
    assert sms(server1, phone, "hello", assistant) == ["noted"]
    [reply] = sms(server2, phone, "my husband is having a seizure and it won't stop", assistant)
    assert assistant.seen == ["hello"]
    assert reply.startswith("EMERGENCY") and "911" in reply


def test_the_widget_conversation_limit_holds_across_two_servers(shared_redis):
    secret = "widget-secret-" + uuid.uuid4().hex
    servers = [WidgetInput(secret=secret, limits={"per_conversation": "3/minute"}) for _ in range(2)]
    conversation = servers[0].mint()
    assistant = Assistant()

    async def post(server, text):
        request = SimpleNamespace(
            app=SimpleNamespace(ctx=SimpleNamespace(agent=None)),
            body=json.dumps({"conversation": conversation, "message": text}).encode(),
            headers={"Content-Type": "application/json"},
            ip="198.51.100.8",
            remote_addr="",
        )
        try:
            return await server._receive(request, assistant)
        except Exception as refusal:  # noqa: BLE001 - the channel's Refusal
            return refusal.status, refusal.headers

    results = [asyncio.run(post(servers[i % 2], f"text {i}")) for i in range(4)]
    assert [r[0] for r in results] == [200, 200, 200, 429]
    assert 1 <= int(results[3][1]["Retry-After"]) <= 20
    assert len(assistant.seen) == 3


def test_the_limit_is_shared_with_another_process(shared_redis):
    limiter = channel_limiter("twilio_sms:per_sender", "5/minute")
    code = (
        "import asyncio, sys\n"
        "from rasa_ext.channels.limits import channel_limiter, check\n"
        "lim = channel_limiter('twilio_sms:per_sender', '5/minute')\n"
        "async def main():\n"
        "    return [bool(await check(lim, '+13125550145')) for _ in range(3)]\n"
        "print(asyncio.run(main()))\n"
    )
    env = {**os.environ, **shared_redis.env, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[True, True, True]"

    async def here():
        return [bool(await check(limiter, "+13125550145")) for _ in range(3)]

    assert asyncio.run(here()) == [True, True, False]  # 3 there + 2 here = the 5 of the minute


def test_keys_hold_no_phone_number_or_address(shared_redis, sms_db):
    server = sms_channel(sms_db)
    phone = "+13125550146"
    sms(server, phone, "hello", Assistant())
    keys = sorted(k.decode() for k in shared_redis.client.scan_iter(f"{shared_redis.prefix}:*"))
    assert keys, "nothing was stored in Redis"
    for key in keys:
        assert "13125550146" not in key and "198.51.100.7" not in key and "5550146" not in key
    secret = shared_redis.env["CLONUS_RATELIMIT_KEY"]
    expected = f"{shared_redis.prefix}:clonus:channel-limit:twilio_sms:per_sender:" + key_digest(
        secret, "twilio_sms:per_sender", phone
    )
    assert expected in keys
    # keyed: another deployment's key names the same number differently
    assert key_digest("another-key", "twilio_sms:per_sender", phone) != key_digest(secret, "twilio_sms:per_sender", phone)
    ttl = shared_redis.client.pttl(expected)
    assert 0 < ttl <= 2 * 60_000  # drained state expires on its own


# ---- Redis down ---------------------------------------------------------------------------------


class RedisServer:
    """A redis-server of this test's own (no persistence), to stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def own_redis(monkeypatch):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed")
    server = RedisServer()
    server.start()
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PORT", str(server.port))
    monkeypatch.setenv("REDIS_DB", "0")
    monkeypatch.setenv("CLONUS_RATELIMIT_KEY", "test-key-" + uuid.uuid4().hex)
    monkeypatch.delenv("CLONUS_LOCK_KEY_PREFIX", raising=False)
    monkeypatch.setattr(limits, "RETRY_SECONDS", 0.3)
    try:
        yield server
    finally:
        server.stop()


def test_with_redis_down_messages_are_answered_under_a_per_process_limit(own_redis, sms_db, caplog):
    server1, server2 = sms_channel(sms_db), sms_channel(sms_db)
    assistant = Assistant()
    phone = "+13125550147"
    assert sms(server1, phone, "one", assistant) == ["noted"]
    assert sms(server2, phone, "two", assistant) == ["noted"]

    own_redis.stop()
    with caplog.at_level(logging.INFO):
        started = time.monotonic()
        # Redis gone: not refused for it. Server 1 counts on its own now (3/minute, fresh).
        assert sms(server1, phone, "my son is having a seizure that won't stop", assistant)[0] == "noted"
        assert time.monotonic() - started < 3  # a bounded wait on the dead Redis, not a hang
        assert sms(server1, phone, "four", assistant) == ["noted"]
        assert sms(server1, phone, "five", assistant) == ["noted"]
        [refused] = sms(server1, phone, "he is having a seizure right now and it won't stop", assistant)
    assert assistant.seen == ["one", "two", "my son is having a seizure that won't stop", "four", "five"]
    assert refused.startswith("EMERGENCY") and "911" in refused  # a refusal still gives the instructions
    warnings = [r.getMessage() for r in caplog.records if "Redis unavailable" in r.getMessage()]
    # once per limit for the outage (per_ip, per_sender, the "too many" notice), not per message
    assert len(warnings) == len(set(warnings)) == 3, warnings
    assert "13125550147" not in caplog.text and "seizure" not in caplog.text

    own_redis.start()  # back, empty (no persistence)
    time.sleep(0.4)  # past RETRY_SECONDS: the next check tries Redis again
    other = "+13125550148"
    with caplog.at_level(logging.INFO):
        assert [sms(s, other, f"m{i}", assistant) for i, s in enumerate([server1, server2, server1])] == [["noted"]] * 3
        assert "faster than the assistant" in sms(server2, other, "m3", assistant)[0]  # shared again
    assert any("Redis is back" in r.getMessage() for r in caplog.records)


def test_with_redis_refusing_connections_a_check_falls_back_at_once(monkeypatch):
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PORT", str(free_port()))  # nothing listens there
    monkeypatch.setenv("CLONUS_RATELIMIT_KEY", "k")
    limiter = channel_limiter("widget:per_ip", "2/minute")

    async def run():
        return [bool(await check(limiter, "203.0.113.5")) for _ in range(3)]

    assert asyncio.run(run()) == [True, True, False]  # the local limit of the same rate
