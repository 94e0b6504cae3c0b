"""Website chat widget channel: serves the widget's files and a demo page from the Rasa server and
takes the widget's messages (a REST exchange: one POST per user message, the bot's replies in
the response).

    GET  /webhooks/widget/demo              demo page (strict Content-Security-Policy)
    GET  /webhooks/widget/static/<file>     widget.js, widget.css, demo.css
    POST /webhooks/widget/webhook           {"sender": "<id>", "message": "<text>"} -> [messages]

Compared with Rasa's `rest` channel: a response's text, buttons and custom JSON arrive as one
message (so an emergency is one message); the sender id and the body are checked; the JSON
content type is required (a cross-site form cannot post it without CORS); typed text that looks
like a Rasa payload is neutralised; message text is never logged.
"""

from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import clinic
from rasa_ext.channels import DEFAULT_MAX_MESSAGE_CHARS, button_payloads, clip, last_bot_turn, neutralise_payload

logger = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"
STATIC_FILES = {  # the only files served: no path ever comes from the request
    "widget.js": "application/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
    "demo.css": "text/css; charset=utf-8",
}
SENDER_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_BODY_BYTES = 16 * 1024
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


class WidgetInput(InputChannel):
    """credentials.yml:

    rasa_ext.channels.widget.WidgetInput:
      init_payload: /greet           # sent (not shown) when a visitor first opens the widget
      cors_origins: []               # other sites that embed the widget, e.g. ["https://clinic.example"]
      max_message_chars: 2000
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
        )

    def __init__(
        self,
        init_payload: str = "/greet",
        cors_origins: Sequence[str] = (),
        max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
        static_dir: Optional[str] = None,
    ) -> None:
        self.init_payload = init_payload
        self.cors_origins = {o.rstrip("/") for o in cors_origins}
        self.max_message_chars = max_message_chars
        self.static_dir = Path(static_dir) if static_dir else WIDGET_DIR

    # -- CORS (only for the origins listed; same-origin use needs none) ------------------------
    def _cors(self, request: Request) -> Dict[str, str]:
        origin = request.headers.get("Origin")
        if origin and ("*" in self.cors_origins or origin.rstrip("/") in self.cors_origins):
            return {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": "POST, OPTIONS",
                "Access-Control-Allow-Headers": "Content-Type",
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

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            headers = {**SECURITY_HEADERS, "Cache-Control": "no-store", **self._cors(request)}
            status, result = await self._receive(request, on_new_message)
            return response.json(result, status=status, headers=headers)

        return hook

    async def _receive(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> "tuple[int, Any]":
        if len(request.body or b"") > MAX_BODY_BYTES:
            return 413, {"error": "message too large"}
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return 415, {"error": "expected application/json"}
        try:
            data = json.loads(request.body or b"")
        except (ValueError, UnicodeDecodeError):
            return 400, {"error": "invalid JSON"}
        if not isinstance(data, dict):
            return 400, {"error": "expected a JSON object"}
        sender, text = data.get("sender"), data.get("message")
        if not isinstance(sender, str) or not SENDER_RE.match(sender):
            return 400, {"error": "invalid sender"}
        if not isinstance(text, str) or not text.strip():
            return 400, {"error": "empty message"}
        text = clip(text.strip(), self.max_message_chars)
        if text.lstrip().startswith("/"):
            allowed = [self.init_payload] + button_payloads(await last_bot_turn(request, sender))
            text = neutralise_payload(text, allowed)
        collector = WidgetOutput()
        try:
            await on_new_message(UserMessage(text, collector, sender, input_channel=self.name()))
        except Exception as exc:
            # The exception's text may quote the message: its type only at ERROR.
            logger.error("widget: the assistant failed on a message (%s)", type(exc).__name__)
            logger.debug("widget: failure details", exc_info=True)
            return 500, {"error": "the assistant could not answer"}
        return 200, collector.messages
