"""The dev channel's guards without a server: off without its setting, and closed to any peer that
is not loopback (a server bound to 127.0.0.1 cannot be reached from another address over real
HTTP, so this is checked here)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from rasa_ext.channels.dev import DevInput


class FakeRequest:
    def __init__(self, ip: str, headers: dict):
        self.ip, self.remote_addr = ip, ""
        self.headers = headers
        self.body = b'{"sender": "me-1", "message": "hi"}'
        self.app = SimpleNamespace(ctx=SimpleNamespace(agent=None))


async def answer(message):
    await message.output_channel.send_response(message.sender_id, {"text": "ok"})


def test_off_without_its_setting(monkeypatch):
    monkeypatch.delenv("CLONUS_DEV_CHANNEL_TOKEN", raising=False)
    channel = DevInput.from_credentials(None)
    assert channel.token is None
    assert not channel.blueprint(answer)._future_routes  # no route at all: 404
    assert DevInput(token="t0ken").blueprint(answer)._future_routes


@pytest.mark.parametrize("ip", ["10.0.0.5", "203.0.113.9", "::ffff:203.0.113.9", "", "not-an-ip"])
def test_only_loopback_peers(ip):
    channel = DevInput(token="t0ken")
    request = FakeRequest(ip, {"Authorization": "Bearer t0ken", "Content-Type": "application/json"})
    status, _ = asyncio.run(channel._receive(request, answer))
    assert status == 403


@pytest.mark.parametrize("ip", ["127.0.0.1", "127.8.9.10", "::1"])
def test_loopback_with_the_token_works(ip):
    channel = DevInput(token="t0ken")
    request = FakeRequest(ip, {"Authorization": "Bearer t0ken", "Content-Type": "application/json"})
    status, messages = asyncio.run(channel._receive(request, answer))
    assert status == 200 and messages == [{"text": "ok"}]
