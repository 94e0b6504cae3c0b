"""The development channel: the one way for the project's tests, benchmarks and evaluation scripts
to hold a conversation over HTTP under an id of their choosing. Not a public channel.

    POST /webhooks/dev/webhook
    Authorization: Bearer $CLONUS_DEV_CHANNEL_TOKEN
    {"sender": "<id>", "message": "<text>"}  ->  [messages]   (the widget's message shape)

It is off unless CLONUS_DEV_CHANNEL_TOKEN is set in the Rasa server's environment (every route
then answers 404, as if the channel did not exist). When on, it still answers only requests
from a loopback address that carry no proxy header (X-Forwarded-For, Forwarded, X-Real-IP: a
reverse proxy on the same host would otherwise make the internet look like loopback) and the
token. It cannot reach a widget or SMS conversation: the id must start with a letter (an SMS
conversation's id is a phone number, "+1..."), must not start with the widget's "web-", and a
conversation that already holds a message from another channel is refused (403).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_ext.channels import (
    DEFAULT_MAX_MESSAGE_CHARS,
    BodyTooLarge,
    failsafe_turn,
    is_loopback_peer,
    json_depth_exceeds,
    read_body,
    typed_reply_message,
)
from rasa_ext.channels.widget import CONVERSATION_PREFIX, WidgetOutput

logger = logging.getLogger(__name__)

TOKEN_ENV = "CLONUS_DEV_CHANNEL_TOKEN"  # noqa: S105 - the name of the variable
SENDER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{2,63}$")
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host")
MAX_BODY_BYTES = 64 * 1024


class DevInput(InputChannel):
    """credentials.yml: `rasa_ext.channels.dev.DevInput:` (no settings; the token comes from the
    environment)."""

    @classmethod
    def name(cls) -> Text:
        return "dev"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(token=os.environ.get(TOKEN_ENV) or None)

    def __init__(self, token: Optional[str] = None) -> None:
        self.token = token
        if token:
            logger.warning("dev channel ON (%s is set): loopback only, for tests and scripts", TOKEN_ENV)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("dev_webhook", __name__)
        if not self.token:
            return hook  # off: no route at all

        @hook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            status, result = await self._receive(request, on_new_message)
            return response.json(result, status=status, headers={"Cache-Control": "no-store"})

        return hook

    def _authorised(self, request: Request) -> bool:
        if not is_loopback_peer(request) or any(h in request.headers for h in PROXY_HEADERS):
            return False
        given = request.headers.get("Authorization") or ""
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not value:
            return False
        return hmac.compare_digest(value.strip().encode(), str(self.token).encode())

    async def _foreign(self, request: Request, sender: str) -> bool:
        """True when the conversation already holds a message from another channel."""
        store = getattr(getattr(request.app.ctx, "agent", None), "tracker_store", None)
        if store is None:
            return False
        tracker = await store.retrieve(sender)
        if tracker is None:
            return False
        channels = {getattr(e, "input_channel", None) for e in tracker.events if type(e).__name__ == "UserUttered"}
        return bool(channels - {self.name()})

    async def _receive(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> "tuple[int, Any]":
        if not self._authorised(request):
            return 403, {"error": "forbidden"}
        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            return 413, {"error": "request too large"}
        if (request.headers.get("Content-Type") or "").split(";")[0].strip().lower() != "application/json":
            return 415, {"error": "expected application/json"}
        if json_depth_exceeds(body, 4):
            return 400, {"error": "JSON nested too deeply"}
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return 400, {"error": "invalid JSON"}
        if not isinstance(data, dict):
            return 400, {"error": "expected a JSON object"}
        sender, text = data.get("sender"), data.get("message")
        if not isinstance(sender, str) or not SENDER_RE.match(sender) or sender.startswith(CONVERSATION_PREFIX):
            return 400, {"error": "invalid sender (a letter first, 3-64 of [A-Za-z0-9_.:-], not web-)"}
        if not isinstance(text, str) or not text.strip():
            return 400, {"error": "empty message"}
        if len(text) > DEFAULT_MAX_MESSAGE_CHARS:
            return 413, {"error": "message too long"}
        collector = WidgetOutput()
        try:
            if await self._foreign(request, sender):
                return 403, {"error": "that conversation belongs to another channel"}
            if text.lstrip().startswith("/"):
                message = UserMessage(text, collector, sender, input_channel=self.name())
            else:
                # As in the widget: a button's title typed instead of pressed acts as the button.
                message = await typed_reply_message(request, text, collector, sender, self.name())
            await on_new_message(message)
        except Exception as exc:  # noqa: BLE001 - answered like the widget, logged without the text
            logger.error("dev: the assistant failed on a turn (%s)", type(exc).__name__)
            return 503, {"error": "the assistant could not answer", "messages": await failsafe_turn(text, exc, sender)}
        return 200, collector.messages
