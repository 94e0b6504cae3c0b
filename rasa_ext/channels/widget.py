"""Website chat widget channel: serves the widget's files and a demo page from the Rasa server and
takes the widget's messages (a REST exchange: one POST per user message, the bot's replies in
the response).

    GET  /webhooks/widget/demo              demo page (strict Content-Security-Policy)
    GET  /webhooks/widget/static/<file>     widget.js, widget.css, demo.css
    POST /webhooks/widget/conversation      {} -> 201 {"conversation": "<signed id>"}
    POST /webhooks/widget/webhook           {"conversation": "<signed id>", "message": "<text>",
                                             "message_id": "<UUID>"}
                                            -> 200 [messages]

`message_id` (optional for backward compatibility; the widget always sends one) is a UUID the
widget draws for each message and sends again, unchanged, on every retry or resend of that
message (and HAProxy's retry/redispatch replays the same body). It is kept in the UserUttered's
metadata (`metadata["message_id"]`), and a message is processed at most once per conversation:
under the conversation's lock (Rasa's lock store: in memory, or rasa_ext.lock_store in the
cluster) the channel reads the tracker, and when it already holds a user event with that id the
message is not processed again; the answer is the bot messages of that stored turn, the same as
its first answer (the reply a server that died after storing the turn never sent; a session's
first message's includes the welcome stored before it: `rasa_ext.channels.turn_replies`). A
malformed id is a 400.

No caller chooses whose conversation it is: the server mints a random conversation id and signs
it (HMAC-SHA256 with CLONUS_WIDGET_SECRET, or a secret generated into the data directory with
mode 0600), and a message is taken only under a signed id that is not too old. The tracker's
sender id is the random part alone (the signature is never stored).

Refusals are JSON objects {"error": "<code>", "messages": [...]} whose messages (text with the
numbers to call) the widget shows: 400 bad JSON or fields, 401 unknown or expired conversation,
413 body or message too long, 415 not JSON, 429 too many requests (Retry-After), 503 the
assistant failed on the turn (the fail-safe messages: emergency instructions when the text is an
emergency, and the honest trouble notice). Text, buttons and custom JSON of one response arrive as
one message (so an emergency is one message); the JSON content type is required (a cross-site
form cannot post it without CORS); typed text that looks like a Rasa payload is neutralised;
message text is never logged.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import secrets
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Text, Tuple

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import clinic
from rasa_ext.channels import (
    DEFAULT_MAX_MESSAGE_CHARS,
    BodyTooLarge,
    button_payloads,
    client_ip,
    emergency_number,
    emergency_screen,
    failsafe_turn,
    json_depth_exceeds,
    last_bot_turn,
    neutralise_payload,
    notice_messages,
    process_once,
    read_body,
    secret_from_env_or_file,
    typed_reply_message,
    warm_failsafe,
)
from rasa_ext.channels.limits import Limiter, channel_limiter, check

logger = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"
STATIC_FILES = {  # the only files served: no path ever comes from the request
    "widget.js": "application/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
    "demo.css": "text/css; charset=utf-8",
}
# The tracker's sender id of a widget conversation: this prefix and 24 random URL-safe characters.
CONVERSATION_PREFIX = "web-"
CONVERSATION_ID_RE = re.compile(r"^web-[A-Za-z0-9_-]{24}$")
SIGNER_SALT = "clonus-widget-conversation"
# A widget message id: a UUID, canonical (8-4-4-4-12 hex) or as 32 hex digits; kept lower-case.
MESSAGE_ID_RE = re.compile(r"^(?:[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")
#: The UserUttered metadata key under which a widget message's id is kept.
MESSAGE_ID_KEY = "message_id"
MAX_BODY_BYTES = 16 * 1024
MAX_JSON_DEPTH = 4
DEFAULT_LIMITS = {
    "per_conversation": "20/minute",  # messages in one conversation
    "per_ip": "120/minute",  # messages from one client address
    "new_conversations_per_ip": "60/hour",
}
DEFAULT_MAX_AGE_DAYS = 7
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class WidgetOutput(OutputChannel):
    """Collects one turn's responses, each as one message: text, buttons and custom together."""

    @classmethod
    def name(cls) -> Text:
        return WidgetInput.name()

    def __init__(self) -> None:
        self.messages: List[Dict[str, Any]] = []

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        out: Dict[str, Any] = {}
        if isinstance(message.get("text"), str) and message["text"].strip():
            out["text"] = message["text"]
        buttons = message.get("buttons") or message.get("quick_replies")
        if isinstance(buttons, list) and buttons:
            out["buttons"] = [
                {
                    "title": str(b.get("title") or b.get("payload") or ""),
                    "payload": str(b.get("payload") or b.get("title") or ""),
                }
                for b in buttons
                if isinstance(b, dict)
            ]
        for key in ("custom", "image", "attachment"):
            if message.get(key):
                out[key] = message[key]
        if out:
            self.messages.append(out)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


def message_id_of(data: Dict[str, Any]) -> Optional[str]:
    """The widget message id of a request body (lower-case, hyphens kept as sent), None when
    absent; Refusal(400) when present but not a UUID."""
    value = data.get(MESSAGE_ID_KEY)
    if value is None:
        return None
    if not isinstance(value, str) or not MESSAGE_ID_RE.match(value):
        raise Refusal(400, "invalid message_id")
    return value.lower()


class Refusal(Exception):
    """A request the widget channel answers with an error status and notice messages."""

    def __init__(self, status: int, error: str, messages: Optional[List[Dict[str, Any]]] = None, **headers: str):
        super().__init__(error)
        self.status = status
        self.error = error
        self.messages = messages
        self.headers = headers


class WidgetInput(InputChannel):
    """credentials.yml:

    rasa_ext.channels.widget.WidgetInput:
      init_payload: /greet           # sent (not shown) when a visitor first opens the widget
      cors_origins: []               # other sites that embed the widget, e.g. ["https://clinic.example"]
      max_message_chars: 2000        # a longer message is refused (413) with a notice
      max_age_days: 7                # a conversation id older than this is refused (401)
      limits:                        # requests beyond these get 429 with a notice
        per_conversation: 20/minute
        per_ip: 120/minute
        new_conversations_per_ip: 60/hour
    Environment: CLONUS_WIDGET_SECRET (the key that signs conversation ids; generated into the
    data directory as widget_secret, mode 0600, when unset).
    """

    @classmethod
    def name(cls) -> Text:
        return "widget"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            init_payload=str(credentials.get("init_payload") or "/greet"),
            cors_origins=list(credentials.get("cors_origins") or []),
            max_message_chars=int(credentials.get("max_message_chars") or DEFAULT_MAX_MESSAGE_CHARS),
            static_dir=credentials.get("static_dir") or None,
            limits=dict(credentials.get("limits") or {}),
            max_age_days=float(credentials.get("max_age_days") or DEFAULT_MAX_AGE_DAYS),
        )

    def __init__(
        self,
        init_payload: str = "/greet",
        cors_origins: Sequence[str] = (),
        max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
        static_dir: Optional[str] = None,
        limits: Optional[Dict[str, str]] = None,
        max_age_days: float = DEFAULT_MAX_AGE_DAYS,
        secret: Optional[str] = None,
    ) -> None:
        self.init_payload = init_payload
        self.cors_origins = {o.rstrip("/") for o in cors_origins}
        self.max_message_chars = max_message_chars
        self.static_dir = Path(static_dir) if static_dir else WIDGET_DIR
        rates = {**DEFAULT_LIMITS, **(limits or {})}
        unknown = set(rates) - set(DEFAULT_LIMITS)
        if unknown:
            raise ValueError(f"widget: unknown limits {sorted(unknown)}; known: {sorted(DEFAULT_LIMITS)}")
        # In memory, or shared by every server through Redis in the cluster shape (limits.py).
        self.per_conversation = channel_limiter("widget:per_conversation", rates["per_conversation"])
        self.per_ip = channel_limiter("widget:per_ip", rates["per_ip"])
        self.new_per_ip = channel_limiter("widget:new_conversations_per_ip", rates["new_conversations_per_ip"])
        self.max_age_seconds = int(max_age_days * 86400)
        key = secret or secret_from_env_or_file("CLONUS_WIDGET_SECRET", "widget_secret")
        self.signer = TimestampSigner(key, salt=SIGNER_SALT, digest_method=hashlib.sha256)

    # -- conversation ids ------------------------------------------------------------------------
    def mint(self) -> str:
        """A new signed conversation id: 'web-<24 random chars>.<timestamp>.<signature>'."""
        conversation_id = CONVERSATION_PREFIX + secrets.token_urlsafe(18)
        return self.signer.sign(conversation_id).decode("ascii")

    def conversation_id(self, token: Any) -> str:
        """The tracker sender id of a signed conversation id; Refusal(401) when it was not minted
        here (or with another secret) or is older than max_age_days."""
        if not isinstance(token, str) or not token or len(token) > 200:
            raise Refusal(400, "missing conversation")  # a client error, not a visitor's expired id
        try:
            value = self.signer.unsign(token, max_age=self.max_age_seconds).decode("ascii")
        except SignatureExpired:
            raise Refusal(401, "conversation expired", notice_messages("conversation_invalid")) from None
        except (BadSignature, UnicodeDecodeError):
            raise Refusal(401, "unknown conversation", notice_messages("conversation_invalid")) from None
        if not CONVERSATION_ID_RE.match(value):
            raise Refusal(401, "unknown conversation", notice_messages("conversation_invalid"))
        return value

    # -- CORS (only for the origins listed; same-origin use needs none) ------------------------
    def _cors(self, request: Request) -> Dict[str, str]:
        origin = request.headers.get("Origin")
        if origin and ("*" in self.cors_origins or origin.rstrip("/") in self.cors_origins):
            return {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": "POST, OPTIONS",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Expose-Headers": "Retry-After",
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            }
        return {}

    def _static(self, name: str, extra: Optional[Dict[str, str]] = None) -> HTTPResponse:
        path = self.static_dir / name
        try:
            body = path.read_bytes()
        except OSError:
            return response.text("not found", status=404)
        headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache", **(extra or {})}
        # The widget is loaded cross-origin by sites that embed it.
        headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response.raw(body, content_type=STATIC_FILES[name], headers=headers)

    def _demo(self) -> HTTPResponse:
        try:
            page = (self.static_dir / "demo.html").read_text(encoding="utf-8")
        except OSError:
            return response.text("not found", status=404)
        profile = clinic()
        for key, value in {
            "clinic_name": profile.name,
            "clinic_phone": profile.phone,
            "clinic_phone_tel": re.sub(r"[^0-9+]", "", profile.phone),
            "emergency_number": profile.emergency_number,
            "emergency_number_tel": re.sub(r"[^0-9+]", "", profile.emergency_number),
        }.items():
            page = page.replace("{{" + key + "}}", html.escape(value, quote=True))
        headers = {
            **SECURITY_HEADERS,
            "Content-Security-Policy": DEMO_CSP,
            "X-Frame-Options": "DENY",
            "Cache-Control": "no-cache",
        }
        return response.html(page, headers=headers)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("widget_webhook", __name__)
        warm_failsafe()

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/demo", methods=["GET"])
        async def demo(_: Request) -> HTTPResponse:
            return self._demo()

        @hook.route("/static/<name>", methods=["GET"])
        async def static(_: Request, name: str) -> HTTPResponse:
            if name not in STATIC_FILES:
                return response.text("not found", status=404)
            return self._static(name)

        @hook.route("/webhook", methods=["OPTIONS"])
        async def preflight(request: Request) -> HTTPResponse:
            # 204 either way: without a grant here, `rasa run --cors` (sanic-cors) may still add
            # its own headers to this response, and a preflight must succeed for those to count.
            return response.empty(status=204, headers=self._cors(request))

        @hook.route("/conversation", methods=["OPTIONS"])
        async def preflight_conversation(request: Request) -> HTTPResponse:
            return response.empty(status=204, headers=self._cors(request))

        @hook.route("/conversation", methods=["POST"], stream=True)
        async def new_conversation(request: Request) -> HTTPResponse:
            return await self._answer(request, self._new_conversation(request))

        @hook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self._answer(request, self._receive(request, on_new_message))

        return hook

    async def _answer(self, request: Request, work: Awaitable[Tuple[int, Any]]) -> HTTPResponse:
        headers = {**SECURITY_HEADERS, "Cache-Control": "no-store", **self._cors(request)}
        try:
            status, result = await work
        except Refusal as refusal:
            status = refusal.status
            result = {"error": refusal.error, "messages": refusal.messages or []}
            headers.update(refusal.headers)
        return response.json(result, status=status, headers=headers)

    async def _limit(self, limiter: Limiter, key: str) -> None:
        verdict = await check(limiter, key)
        if not verdict:
            raise Refusal(
                429, "too many requests", notice_messages("too_many"), **{"Retry-After": str(verdict.retry_after)}
            )

    async def _json_body(self, request: Request) -> Dict[str, Any]:
        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            raise Refusal(413, "message too large", notice_messages("too_long", self.max_message_chars)) from None
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise Refusal(415, "expected application/json")
        if json_depth_exceeds(body, MAX_JSON_DEPTH):
            raise Refusal(400, "JSON nested too deeply")
        try:
            data = json.loads(body or b"")
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise Refusal(400, "invalid JSON") from None
        if not isinstance(data, dict):
            raise Refusal(400, "expected a JSON object")
        return data

    async def _new_conversation(self, request: Request) -> "Tuple[int, Any]":
        await self._limit(self.new_per_ip, client_ip(request))
        try:
            await read_body(request, 1024)
        except BodyTooLarge:
            raise Refusal(413, "request too large") from None
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":  # as for messages: no cross-site simple request
            raise Refusal(415, "expected application/json")
        return 201, {"conversation": self.mint(), "emergency_number": emergency_number()}

    async def _receive(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> "Tuple[int, Any]":
        await self._limit(self.per_ip, client_ip(request))
        data = await self._json_body(request)
        sender = self.conversation_id(data.get("conversation"))
        message_id = message_id_of(data)
        text = data.get("message")
        if not isinstance(text, str) or not text.strip():
            await self._limit(self.per_conversation, sender)
            raise Refusal(400, "empty message")
        text = text.strip()
        if len(text) > self.max_message_chars:
            await self._limit(self.per_conversation, sender)
            # Refused, but an emergency in it still gets its instructions (the screen is bounded in time).
            raise Refusal(413, "message too long", await emergency_screen(text) + notice_messages("too_long", self.max_message_chars))
        verdict = await check(self.per_conversation, sender)
        if not verdict:
            # Refused, but an emergency still gets its instructions with the number to call.
            raise Refusal(
                429,
                "too many requests",
                await emergency_screen(text) + notice_messages("too_many"),
                **{"Retry-After": str(verdict.retry_after)},
            )
        if text.lstrip().startswith("/"):
            allowed = [self.init_payload] + button_payloads(await last_bot_turn(request, sender))
            text = neutralise_payload(text, allowed)
        collector = WidgetOutput()
        if text.startswith("/"):
            message = UserMessage(text, collector, sender, input_channel=self.name())
        else:
            # A button's title typed instead of pressed acts as the button (the typed words are kept).
            message = await typed_reply_message(request, text, collector, sender, self.name())
        if message_id is not None:
            message.metadata = {**(message.metadata or {}), MESSAGE_ID_KEY: message_id}
            if message.parse_data is not None:
                message.parse_data["metadata"] = message.metadata
        try:
            if message_id is None:
                await on_new_message(message)
            else:
                replayed = await self._once(request, message, message_id, on_new_message)
                if replayed is not None:
                    logger.info("widget: a repeated message id was answered from the stored turn")
                    return 200, replayed
        except Exception as exc:  # noqa: BLE001 - The exception's text may quote the message: its type only, never the details.
            logger.error("widget: the assistant failed on a turn (%s)", type(exc).__name__)
            raise Refusal(
                503, "the assistant could not answer", await failsafe_turn(text, exc, message.sender_id)
            ) from None
        return 200, collector.messages

    async def _once(
        self,
        request: Request,
        message: UserMessage,
        message_id: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> Optional[List[Dict[str, Any]]]:
        """Process `message` unless its conversation already holds a user event with `message_id`
        (`process_once`); then return the bot messages of that stored turn, in the widget's format."""
        stored = await process_once(request, message, MESSAGE_ID_KEY, message_id, on_new_message)
        if stored is None:
            return None
        output = WidgetOutput()
        for reply in stored:
            await output.send_response(message.sender_id, reply)
        return output.messages
