"""Twilio SMS input channel that checks X-Twilio-Signature (Rasa's built-in `twilio` channel does
not), answers in TwiML (or through Twilio's REST API), keeps STOP/START/HELP and the opt-out list.

Webhook: POST /webhooks/twilio_sms/webhook. The auth token comes only from TWILIO_AUTH_TOKEN;
without it every request is refused (403). Signatures are checked and TwiML is written by the
`twilio` package (RequestValidator, MessagingResponse). An SMS conversation exists only through
signed requests: its sender id is the E.164 number, which no other channel accepts as an id.

Every signed request must carry a MessageSid; each MessageSid is processed once: it is recorded in
the database (clonus_sms_message_seen) and in the user event's metadata (`message_sid`), and a
repeated one (a Twilio retry, HAProxy's `retry-on` after a server died or timed out, a replay) is
answered with the reply stored for it, the same as its first delivery's (`process_once`, under the
conversation's lock), or processed if its first delivery was never stored, so it is neither done
twice nor lost, even after a restart.
A repeated keyword (STOP, HELP...) or MORE gets an empty answer. A sender texting faster than `limits.per_sender` gets one SMS saying so (then
nothing until the window passes; the limits are shared by every server through Redis in the
cluster shape, rasa_ext.channels.limits); a long reply is sent 320 characters at a time and the
rest waits in the database (clonus_sms_more_page) for MORE, on any server, for MORE_KEEP; a
message longer than max_message_chars gets a reply saying so; a turn the assistant failed on gets the fail-safe messages (emergency instructions when the
text is an emergency, and the trouble notice with the numbers).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
import re
from datetime import timedelta
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text
from urllib.parse import parse_qsl

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.settings import clinic
from rasa_ext.channels import (
    DEFAULT_MAX_MESSAGE_CHARS,
    BodyTooLarge,
    client_ip,
    emergency_screen,
    failsafe_turn,
    last_bot_turn,
    neutralise_payload,
    notice,
    process_once,
    read_body,
    sms,
    warm_failsafe,
)
from rasa_ext.channels.limits import channel_limiter, check

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # a Twilio messaging webhook is a few hundred bytes
OPTION_REPLY_MAX_CHARS = 80
TWIML_TYPE = "application/xml; charset=utf-8"
MESSAGE_SID_RE = re.compile(r"^(SM|MM|SMS|MG)[0-9A-Za-z]{10,60}$")
SEEN_KEEP_DAYS = 30  # Twilio retries within minutes; older MessageSids are forgotten
#: How long the rest of a long reply waits for MORE: a day covers a reply read later the same day,
#: and a page older than that no longer belongs to the conversation the person is having.
MORE_KEEP = timedelta(hours=24)
DEFAULT_LIMITS = {
    "per_sender": "10/minute",  # messages from one phone number
    "per_ip": "600/minute",  # requests from one address (all of Twilio's come from a few)
}


class FormParams(dict):
    """Form fields as name -> list of values (what the signature needs); `get` gives the first."""

    def getall(self, name: str) -> List[str]:
        return self[name]

    def first(self, name: str) -> Optional[str]:
        values = super().get(name)
        return values[0] if values else None


def parse_form(body: bytes) -> Optional[FormParams]:
    """application/x-www-form-urlencoded body -> FormParams, blank values kept (Twilio signs
    them); None when the body is not UTF-8."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    params = FormParams()
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=500)
    except ValueError:
        return None
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def twiml(pieces: List[str]) -> str:
    reply = MessagingResponse()
    for piece in pieces:
        reply.message(piece)
    return str(reply)


def _record_message_sid(message_sid: str, url: Optional[str]) -> bool:
    """Record a MessageSid in the database: True the first time, False when it was seen before.

    The insert itself decides (primary key), so two deliveries at once cannot both pass.
    """
    import sqlalchemy as sa
    from sqlalchemy.exc import IntegrityError

    from bot.db import session_scope
    from bot.db.models import SmsMessageSeen, utcnow

    try:
        with session_scope(url) as session:
            session.add(SmsMessageSeen(message_sid=message_sid))
            session.flush()
    except IntegrityError:
        return False
    _record_message_sid.count = getattr(_record_message_sid, "count", 0) + 1  # type: ignore[attr-defined]
    if _record_message_sid.count % 1000 == 1:  # type: ignore[attr-defined]
        with session_scope(url) as session:
            session.execute(
                sa.delete(SmsMessageSeen).where(SmsMessageSeen.received_at < utcnow() - timedelta(days=SEEN_KEEP_DAYS))
            )
    return True


# The user event's metadata key holding the MessageSid of the SMS it came from (process_once).
MESSAGE_SID_KEY = "message_sid"


@dataclasses.dataclass(frozen=True)
class _Turn:
    """One SMS handed to the assistant."""

    request: Request
    on_new_message: Callable[[UserMessage], Awaitable[Any]]
    text: str
    phone: str
    message_sid: str


class _TurnCollector(OutputChannel):
    """Keeps the bot's responses of one turn (whole message dicts, so that text, buttons and
    custom JSON of one response stay together) until the webhook answers."""

    @classmethod
    def name(cls) -> Text:
        return TwilioSmsInput.name()

    def __init__(self) -> None:
        self.messages: List[Dict[str, Any]] = []

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.messages.append(dict(message))

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        self.messages.append({"text": text})


class TwilioApiSender:
    """Sends texts through Twilio's REST API (reply_mode: api)."""

    def __init__(
        self, account_sid: str, auth_token: str, from_number: Optional[str], messaging_service_sid: Optional[str]
    ):
        from twilio.rest import Client  # imported here: only the api mode needs it

        self.client = Client(account_sid, auth_token)
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid

    async def send(self, to: str, pieces: List[str]) -> None:
        for piece in pieces:  # one after the other: keeps the order of a split reply
            kwargs: Dict[str, Any] = {"to": to, "body": piece}
            if self.messaging_service_sid:
                kwargs["messaging_service_sid"] = self.messaging_service_sid
            else:
                kwargs["from_"] = self.from_number
            await asyncio.get_running_loop().run_in_executor(
                None, functools.partial(self.client.messages.create, **kwargs)
            )


class TwilioSmsOutput(OutputChannel):
    """Output for messages sent outside a webhook (reminders, external events): REST API only."""

    @classmethod
    def name(cls) -> Text:
        return TwilioSmsInput.name()

    def __init__(self, sender: TwilioApiSender, opted_out: Callable[[str], Awaitable[bool]]) -> None:
        self.sender = sender
        self.opted_out = opted_out

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        if await self.opted_out(recipient_id):
            logger.info("sms: not sending to opted-out number %s", sms.mask_phone(recipient_id))
            return
        text = sms.render_turn([message])
        if text:
            await self.sender.send(recipient_id, sms.split_message(text))

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


class TwilioSmsInput(InputChannel):
    """Signed Twilio messaging webhook. credentials.yml:

    rasa_ext.channels.twilio_sms.TwilioSmsInput:
      reply_mode: twiml          # or "api": answer at once, reply through Twilio's REST API
      default_region: US         # for numbers that arrive without a country code
      max_message_chars: 2000    # a longer message gets a reply asking for shorter parts
      limits:
        per_sender: 10/minute    # one SMS says so when exceeded, then nothing until it passes
        per_ip: 600/minute       # 429 (Twilio's requests come from a few addresses)
    Environment: TWILIO_AUTH_TOKEN (required), TWILIO_WEBHOOK_URL (the public URL Twilio is
    configured with, when a proxy changes what the server sees), and for reply_mode api
    TWILIO_ACCOUNT_SID plus TWILIO_NUMBER or TWILIO_MESSAGING_SERVICE_SID.
    """

    @classmethod
    def name(cls) -> Text:
        return "twilio_sms"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        env = os.environ
        return cls(
            auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            webhook_url=env.get("TWILIO_WEBHOOK_URL") or credentials.get("webhook_url") or None,
            reply_mode=str(credentials.get("reply_mode") or env.get("TWILIO_REPLY_MODE") or "twiml"),
            account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            from_number=env.get("TWILIO_NUMBER") or credentials.get("twilio_number") or None,
            messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID") or None,
            default_region=str(credentials.get("default_region") or "US"),
            max_message_chars=int(credentials.get("max_message_chars") or DEFAULT_MAX_MESSAGE_CHARS),
            database_url=credentials.get("database_url") or None,
            limits=dict(credentials.get("limits") or {}),
        )

    def __init__(
        self,
        auth_token: Optional[str],
        webhook_url: Optional[str] = None,
        reply_mode: str = "twiml",
        account_sid: Optional[str] = None,
        from_number: Optional[str] = None,
        messaging_service_sid: Optional[str] = None,
        default_region: str = "US",
        max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
        database_url: Optional[str] = None,
        api_sender: Optional[TwilioApiSender] = None,
        limits: Optional[Dict[str, str]] = None,
    ) -> None:
        if reply_mode not in ("twiml", "api"):
            raise ValueError(f"twilio_sms: reply_mode must be 'twiml' or 'api', not {reply_mode!r}")
        self.auth_token = auth_token
        self.validator = RequestValidator(auth_token) if auth_token else None
        self.webhook_url = webhook_url.strip() if webhook_url else None
        self.reply_mode = reply_mode
        self.default_region = default_region
        self.max_message_chars = max_message_chars
        self.database_url = database_url
        rates = {**DEFAULT_LIMITS, **(limits or {})}
        unknown = set(rates) - set(DEFAULT_LIMITS)
        if unknown:
            raise ValueError(f"twilio_sms: unknown limits {sorted(unknown)}; known: {sorted(DEFAULT_LIMITS)}")
        # In memory, or shared by every server through Redis in the cluster shape (limits.py).
        self.per_sender = channel_limiter("twilio_sms:per_sender", rates["per_sender"])
        self.per_ip = channel_limiter("twilio_sms:per_ip", rates["per_ip"])
        # One "too many messages" SMS per sender per window, not one per refused message.
        self.told_to_slow_down = channel_limiter("twilio_sms:told_to_slow_down", f"1/{int(self.per_sender.period)}s")
        self._tasks: set = set()
        # The rest of each number's last long reply waits in the database (clonus_sms_more_page) for
        # MORE, which any server may receive, for `more_keep`.
        self.more_keep = MORE_KEEP
        self.api_sender = api_sender
        if not auth_token:
            logger.warning(
                "twilio_sms: TWILIO_AUTH_TOKEN is not set; every request to the SMS webhook will be refused (403)"
            )
        if reply_mode == "api" and api_sender is None and auth_token:
            if not account_sid or not (from_number or messaging_service_sid):
                raise ValueError(
                    "twilio_sms: reply_mode api needs TWILIO_ACCOUNT_SID and TWILIO_NUMBER or TWILIO_MESSAGING_SERVICE_SID"
                )
            self.api_sender = TwilioApiSender(account_sid, auth_token, from_number, messaging_service_sid)

    # -- database (bot.db, synchronous SQLAlchemy: run off the event loop) -----------------------
    async def _in_executor(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async def _opted_out(self, phone: str) -> bool:
        from bot.db import is_sms_opted_out

        return await self._in_executor(is_sms_opted_out, phone, self.database_url)

    async def _set_opt_out(self, phone: str, value: bool) -> None:
        from bot.db import set_sms_opt_out

        await self._in_executor(set_sms_opt_out, phone, value, self.database_url)

    async def _first_delivery(self, message_sid: str) -> bool:
        return await self._in_executor(_record_message_sid, message_sid, self.database_url)

    async def _save_pages(self, phone: str, pages: List[str]) -> None:
        from bot.db import save_sms_pages

        await self._in_executor(functools.partial(save_sms_pages, phone, pages, self.more_keep, self.database_url))

    async def _take_page(self, phone: str) -> Optional[str]:
        from bot.db import take_sms_page

        return await self._in_executor(take_sms_page, phone, self.database_url)

    def get_output_channel(self) -> Optional[OutputChannel]:
        if self.api_sender is None:
            return None  # TwiML replies only exist inside a webhook
        return TwilioSmsOutput(self.api_sender, self._opted_out)

    # -- request checks ------------------------------------------------------------------------
    def signed_url(self, request: Request) -> str:
        """The URL Twilio signed: TWILIO_WEBHOOK_URL when set (a full webhook URL, or a public
        base URL to which the request path is appended), else the URL of the request."""
        if not self.webhook_url:
            return request.url
        configured = self.webhook_url
        if configured.rstrip("/").endswith(request.path.rstrip("/")):
            return configured
        url = configured.rstrip("/") + request.path
        if request.query_string:
            url += "?" + request.query_string
        return url

    def signature_valid(self, request: Request, params: FormParams) -> bool:
        """Fail closed: no token, no signature or a wrong one is never valid."""
        signature = request.headers.get("X-Twilio-Signature")
        if self.validator is None or not signature:
            return False
        try:
            return bool(self.validator.validate(self.signed_url(request), params, signature))
        except Exception:  # noqa: BLE001 - a malformed URL or signature is simply not valid
            return False

    # -- the webhook ---------------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("twilio_sms_webhook", __name__)
        warm_failsafe()

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        return hook

    def _reply(self, texts: List[str]) -> HTTPResponse:
        pieces = [p for t in texts for p in sms.split_message(t)]
        return response.text(twiml(pieces), content_type=TWIML_TYPE)

    async def _receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        verdict = await check(self.per_ip, client_ip(request))
        if not verdict:
            return response.text("too many requests", status=429, headers={"Retry-After": str(verdict.retry_after)})
        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            return response.text("payload too large", status=413)
        params = parse_form(body)
        if params is None or not self.signature_valid(request, params):
            signature = request.headers.get("X-Twilio-Signature")
            logger.warning("twilio_sms: refused a request with %s signature", "a wrong" if signature else "no")
            return response.text("forbidden", status=403)

        message_sid = params.first("MessageSid") or ""
        if not MESSAGE_SID_RE.match(message_sid):
            logger.warning("twilio_sms: refused a signed request without a MessageSid")
            return response.text("bad request: MessageSid required", status=400)
        phone = sms.normalize_e164(params.first("From"), self.default_region)
        if phone is None:
            logger.warning("twilio_sms: signed request without a usable From number")
            return response.text("bad request", status=400)
        text = (params.first("Body") or "").strip()
        try:
            return await self._signed(request, on_new_message, message_sid, phone, text)
        except Exception as exc:  # noqa: BLE001 - the database is down, or anything else: the fail-safe answer
            logger.error(
                "twilio_sms: could not handle a message from %s (%s)", sms.mask_phone(phone), type(exc).__name__
            )
            return self._reply([sms.render_turn(await failsafe_turn(text[: self.max_message_chars], exc, phone))])

    async def _signed(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        message_sid: str,
        phone: str,
        text: str,
    ) -> HTTPResponse:
        repeated = not await self._first_delivery(message_sid)
        keyword = sms.classify_keyword(text)
        if repeated and (keyword or not text or sms.asks_for_more(text)):
            # Not a stored turn: a keyword or a MORE page is not done twice.
            logger.info("twilio_sms: ignored a repeated MessageSid")
            return self._reply([])
        masked = sms.mask_phone(phone)
        profile = clinic()

        if keyword == "help":
            logger.info("twilio_sms: HELP from %s", masked)
            return self._reply([sms.help_message(profile.name, profile.phone, profile.emergency_number)])
        if keyword == "stop":
            await self._set_opt_out(phone, True)
            logger.info("twilio_sms: %s opted out", masked)
            return self._reply([sms.stop_message(profile.name, profile.emergency_number)])
        opted_out = await self._opted_out(phone)
        if keyword == "start" and opted_out:
            await self._set_opt_out(phone, False)
            logger.info("twilio_sms: %s opted back in", masked)
            return self._reply([sms.start_message(profile.name)])
        if opted_out:
            # Carriers forbid any message to an opted-out number until START: nothing is sent,
            # and the message is not handed to the assistant.
            logger.info("twilio_sms: message from opted-out number %s not processed", masked)
            return self._reply([])
        if not repeated and not await check(self.per_sender, phone):
            logger.warning("twilio_sms: %s is over the message rate limit", masked)
            # Not handed to the assistant, but an emergency still gets its instructions.
            urgent = await emergency_screen(text) if text and len(text) <= self.max_message_chars else []
            if await check(self.told_to_slow_down, phone):
                return self._reply([sms.render_turn(urgent + [{"text": notice("too_many")}])])
            return self._reply([sms.render_turn(urgent)] if urgent else [])
        if not text:
            return self._reply(["Sorry, I can only read text messages. Please describe what is happening in words."])
        if len(text) > self.max_message_chars:
            logger.info("twilio_sms: refused a message over %d characters from %s", self.max_message_chars, masked)
            urgent = await emergency_screen(text)  # an emergency in it still gets its instructions
            return self._reply([sms.render_turn(urgent + [{"text": notice("too_long", self.max_message_chars)}])])

        if sms.asks_for_more(text):
            page = await self._take_page(phone)
            if page is not None:
                return self._reply([page])
            # Nothing left (or expired): MORE goes to the assistant like any message.

        chosen = None
        if len(text) <= OPTION_REPLY_MAX_CHARS:
            # Only a short reply can pick an option (a number or a button's title): reading the
            # conversation for the buttons it was shown is skipped for longer messages.
            chosen = sms.select_option(text, sms.turn_buttons(await last_bot_turn(request, phone)))
        text = chosen if chosen is not None else neutralise_payload(text, [])

        turn = _Turn(request, on_new_message, text, phone, message_sid)
        if self.reply_mode == "api":
            task = asyncio.ensure_future(self._handle_and_send(turn, send_replayed=not repeated))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return self._reply([])
        reply, _ = await self._handle(turn)
        return self._reply([reply] if reply else [])

    async def _handle(self, turn: "_Turn") -> "tuple[str, bool]":
        """The turn's reply, and whether it was the stored reply of an earlier delivery of the
        same MessageSid (a Twilio or load-balancer retry: `process_once`, never processed twice;
        a delivery whose first copy was never stored is processed)."""
        collector = _TurnCollector()
        message = UserMessage(
            turn.text, collector, turn.phone, input_channel=self.name(), metadata={MESSAGE_SID_KEY: turn.message_sid}
        )
        text, phone = turn.text, turn.phone
        try:
            stored = await process_once(turn.request, message, MESSAGE_SID_KEY, turn.message_sid, turn.on_new_message)
        except Exception as exc:  # noqa: BLE001 - The exception's text may quote the message: its type only.
            logger.error(
                "twilio_sms: the assistant failed (%s) on a message from %s", type(exc).__name__, sms.mask_phone(phone)
            )
            return sms.render_turn(await failsafe_turn(text, exc, phone)), False
        if stored is not None:
            logger.info("twilio_sms: a repeated MessageSid was answered from the stored turn")
            return await self._short(sms.render_turn(stored), phone), True
        reply = sms.render_turn(collector.messages)
        if not reply:
            # The assistant said nothing: the person is not left without an answer.
            logger.error("twilio_sms: the assistant gave no reply to a message from %s", sms.mask_phone(phone))
            return sms.render_turn(await failsafe_turn(text)), False
        return await self._short(reply, phone), False

    async def _short(self, reply: str, phone: str) -> str:
        """At most 320 characters now; the rest waits for "MORE" (in the database). The first page
        goes out even when the rest cannot be stored: MORE then reaches the assistant."""
        pages = sms.paginate(reply, sms.SMS_SHORT_CHARS, clinic().emergency_number)
        try:
            await self._save_pages(phone, pages[1:])
        except Exception as exc:  # noqa: BLE001 - the answer itself must still go out; never the text in the log
            logger.error(
                "twilio_sms: could not store the rest of a reply to %s (%s)", sms.mask_phone(phone), type(exc).__name__
            )
        return pages[0] if pages else reply

    async def _handle_and_send(self, turn: "_Turn", send_replayed: bool) -> None:
        """API mode: the stored reply of a repeated MessageSid is not sent again (it went out
        after its first delivery), unless this is its first delivery after all."""
        reply, replayed = await self._handle(turn)
        if replayed and not send_replayed:
            return
        phone = turn.phone
        if reply and self.api_sender is not None:
            try:
                await self.api_sender.send(phone, sms.split_message(reply))
            except Exception as exc:  # noqa: BLE001 - logged without the text; nothing else to do
                logger.error(
                    "twilio_sms: sending through the REST API to %s failed (%s)",
                    sms.mask_phone(phone),
                    type(exc).__name__,
                )
