"""Input channels of the assistant and what they share.

Public channels (open to anyone on the internet):
  * `widget.WidgetInput`: the website widget; a conversation exists only under an id the server
    minted and signed (`POST /webhooks/widget/conversation`).
  * `twilio_sms.TwilioSmsInput`: SMS; a conversation exists only through requests Twilio signed.
Not public: `dev.DevInput`, the one way for the project's tests and scripts to talk to the
assistant with an id of their choosing (off unless CLONUS_DEV_CHANNEL_TOKEN is set; loopback only).

Every public channel bounds the body (bytes, JSON depth), the message length and the request rate
per sender and per client address (in memory, or shared through Redis in the cluster shape: `limits`), and answers a turn the Rasa server failed on with the fail-safe
messages (`rasa_ext.failsafe`).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

logger = logging.getLogger(__name__)

# Longest user message handed to the assistant; a longer one is refused with a notice (nobody
# types more in a chat, and the NLU pipeline and the triage engine must not be fed megabytes).
DEFAULT_MAX_MESSAGE_CHARS = 2000
# How long the fail-safe path may spend screening the text for an emergency (bot.triage).
FAILSAFE_SCREEN_SECONDS = 2.0


# ---- conversation reading ------------------------------------------------------------------------


#: The action Rasa runs before it logs the first user message of a session (processor.py,
#: `_update_tracker_session`); the bot messages it utters (the welcome) belong to that message's turn.
ACTION_SESSION_START = "action_session_start"


def _user_event_index(events: Sequence[Any], key: str, value: str) -> Optional[int]:
    for index, event in enumerate(events):
        if isinstance(event, UserUttered) and (event.metadata or {}).get(key) == value:
            return index
    return None


def _opens_session(events: Sequence[Any], index: int) -> bool:
    """Whether events[index] is the first user event of `events` (a session, as `retrieve` gives it)."""
    return not any(isinstance(event, UserUttered) for event in events[:index])


def turn_replies(events: Sequence[Any], index: int) -> List[Dict[str, Any]]:
    """The bot messages (BotUttered.message() dicts, what the processor sent the output channel) of
    the turn of the user event events[index], in the order they were sent.

    Those stored after it up to the next user event, and, when it is the first message of a
    session, those its session start uttered before it: Rasa runs `action_session_start` before it
    logs the message, so a conversation's welcome (with the automated / not-a-doctor sentence) is
    stored before the user event. Stored order (Rasa 3.6, the project's action_session_start):
    SlotSet(session_started_metadata), ActionExecuted(action_session_start), BotUttered(welcome),
    SessionStarted, SlotSet..., ActionExecuted(action_listen), UserUttered. So the bot messages
    before the user event count when an ActionExecuted(action_session_start) comes before them
    with no user event between (the bot messages after an earlier user event answered that one).
    `events` must reach back to that ActionExecuted: `tracker_store.retrieve` starts at the
    latest SessionStarted by timestamp, after the welcome (`stored_reply` reads the whole
    conversation for a session's first message)."""
    leading: List[Dict[str, Any]] = []
    for earlier in reversed(events[:index]):
        if isinstance(earlier, UserUttered):
            leading = []  # the previous turn's
            break
        if isinstance(earlier, BotUttered):
            leading.append(earlier.message())
        elif isinstance(earlier, ActionExecuted) and earlier.action_name == ACTION_SESSION_START:
            break
    leading.reverse()
    replies: List[Dict[str, Any]] = []
    for later in events[index + 1 :]:
        if isinstance(later, UserUttered):
            break
        if isinstance(later, BotUttered):
            replies.append(later.message())
    return leading + replies


async def stored_reply(store: Any, tracker: Any, key: str, value: str) -> Optional[List[Dict[str, Any]]]:
    """The bot messages of the stored turn whose user event's metadata holds `key: value`
    (`turn_replies`), None when `tracker` (the current session, from `store.retrieve`) holds no
    such user event. For the session's first message the whole conversation is read
    (`store.retrieve_full_tracker`): the welcome its session start uttered is stored before the
    session's SessionStarted event, where `retrieve` does not reach."""
    events = list(getattr(tracker, "events", None) or [])
    index = _user_event_index(events, key, value)
    if index is None:
        return None
    if _opens_session(events, index):
        full = await store.retrieve_full_tracker(tracker.sender_id)
        full_events = list(getattr(full, "events", None) or [])
        full_index = _user_event_index(full_events, key, value)
        if full_index is not None:
            events, index = full_events, full_index
    return turn_replies(events, index)


async def process_once(
    request: Request, message: UserMessage, key: str, value: str, on_new_message: Any
) -> Optional[List[Dict[str, Any]]]:
    """`_process_once` once this server admits the turn (rasa_ext.admission: at most
    CLONUS_MAX_CONCURRENT_TURNS at once; an emergency is admitted at once). Raises TurnBusy, the
    message unprocessed and unstored, when the channel's wait for a turn ran out."""
    from rasa_ext import admission

    gate = admission.gate()

    async def urgent() -> bool:
        return bool(await emergency_screen(message.text or ""))

    channel = message.input_channel or ""
    loop = asyncio.get_running_loop()
    arrived = loop.time()
    if not await gate.acquire(admission.turn_wait_seconds(channel), urgent):
        logger.warning("%s: no turn free within the wait; answered busy (%d waiting)", channel, gate.waiting)
        raise admission.TurnBusy()
    # The turn runs to its end whatever happens to this request (it holds the conversation's lock and
    # stores the turn); its slot is given back when it ends, not when the person is answered.
    turn = asyncio.ensure_future(_process_once(request, message, key, value, on_new_message))
    turn.add_done_callback(lambda _: gate.release())
    left = admission.turn_deadline_seconds(channel) - (loop.time() - arrived)
    try:
        return await asyncio.wait_for(asyncio.shield(turn), max(0.0, left))
    except asyncio.TimeoutError:
        # Not answered by the channel's deadline: the person is answered now (the fail-safe screen:
        # an emergency gets its instructions), the turn goes on and is stored; a resend of the same
        # message id is answered from the store.
        logger.warning("%s: a turn passed the channel's deadline; answered by the fail-safe path", channel)
        turn.add_done_callback(_consume_result)
        raise admission.TurnTooSlow() from None


def _consume_result(task: "asyncio.Future[Any]") -> None:
    """A turn that ended after its person was answered: its failure is logged (type only), not lost."""
    if not task.cancelled() and task.exception() is not None:
        logger.error("a turn answered by the fail-safe path failed later (%s)", type(task.exception()).__name__)


async def _process_once(
    request: Request, message: UserMessage, key: str, value: str, on_new_message: Any
) -> Optional[List[Dict[str, Any]]]:
    """Process `message` (its metadata must hold `key: value`) unless its conversation already
    holds a user event with `key: value`; then return the bot messages of that stored turn
    instead (`stored_reply`: the reply its first delivery got, the welcome of a session's first
    message included; None when the message was processed now).

    The check and the processing happen under one hold of the conversation's lock (the agent's
    lock store), so two copies that arrive at once (on one server or on two: a channel's retry,
    HAProxy's `retry-on`, a resend) cannot both pass the check: the second waits for the first
    turn to be stored, then finds it. A copy whose first delivery was never stored (its server
    died mid-turn) is processed. Agent.handle_message is that lock around processor.handle_message;
    the lock is not re-entrant, so the processor is called here directly. Without a ready agent
    (no lock store or tracker store to read) the message goes the usual way."""
    agent = getattr(request.app.ctx, "agent", None)
    lock_store = getattr(agent, "lock_store", None)
    store = getattr(agent, "tracker_store", None)
    processor = getattr(agent, "processor", None)
    if agent is None or lock_store is None or store is None or processor is None or not agent.is_ready():
        await on_new_message(message)
        return None
    async with lock_store.lock(message.sender_id):
        tracker = await store.retrieve(message.sender_id)
        if tracker is not None:
            stored = await stored_reply(store, tracker, key, value)
            if stored is not None:
                return stored
        await processor.handle_message(message)
    return None


async def last_bot_turn(request: Request, sender_id: str) -> List[Dict[str, Any]]:
    """The bot messages sent after the conversation's last user message (oldest first), as the
    `data` of their BotUttered events; [] for a new conversation or without a tracker store."""
    agent = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return []
    try:
        tracker = await store.retrieve(sender_id)
    except Exception:  # noqa: BLE001 - a broken store must not break the channel; the message still goes through
        logger.error("could not read the conversation to resolve a reply")
        return []
    if tracker is None:
        return []
    turn: List[Dict[str, Any]] = []
    for event in reversed(tracker.events):
        name = type(event).__name__
        if name == "UserUttered":
            break
        if name == "BotUttered":
            turn.append(dict(getattr(event, "data", None) or {}, text=getattr(event, "text", None)))
    return list(reversed(turn))


def button_payloads(messages: Sequence[Dict[str, Any]]) -> List[str]:
    out = []
    for message in messages:
        for button in message.get("buttons") or message.get("quick_replies") or []:
            if isinstance(button, dict) and isinstance(button.get("payload"), str):
                out.append(button["payload"])
    return out


#: Only a reply this short can be a button's title typed out (longer text is never looked up).
TITLE_REPLY_MAX_CHARS = 80


def _title_key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", (text or "").casefold()).split())


def typed_title(text: str, messages: Sequence[Dict[str, Any]]) -> Optional[str]:
    """The payload of the button (in the bot's last turn) whose title the person typed instead of
    pressing it ("I have symptoms", "yes, send it"), or None. Titles only: a number stays an answer."""
    said = _title_key(text)
    if not said or len(text) > TITLE_REPLY_MAX_CHARS:
        return None
    found = [
        button["payload"]
        for message in messages
        for button in message.get("buttons") or message.get("quick_replies") or []
        if isinstance(button, dict) and isinstance(button.get("payload"), str) and _title_key(str(button.get("title") or "")) == said
    ]
    return found[0] if len(set(found)) == 1 else None


#: The metadata key under which a typed button title's payload is kept (actions.forms_common reads it).
BUTTON_METADATA_KEY = "button"


async def typed_reply_message(request: Request, text: str, output: Any, sender: str, input_channel: str) -> UserMessage:
    """The UserMessage for what the person typed: when it is the title of a button the bot just
    showed ("what is clonus"), it acts as that button (the payload's intent and entities), but the
    conversation keeps the person's own words as the message text, with the payload in the
    message's metadata so that actions know it was a choice, not an answer."""
    payload = typed_title(text, await last_bot_turn(request, sender)) if len(text) <= TITLE_REPLY_MAX_CHARS else None
    if payload is None:
        return UserMessage(text, output, sender, input_channel=input_channel)
    metadata = {BUTTON_METADATA_KEY: payload}
    agent = getattr(request.app.ctx, "agent", None)
    try:
        parse_data = dict(await agent.parse_message(payload))
    except Exception:  # noqa: BLE001 - no agent or a failed parse: the payload itself goes through
        logger.error("could not parse a typed button's payload; the payload is sent instead")
        return UserMessage(payload, output, sender, input_channel=input_channel, metadata=metadata)
    parse_data.update(text=text, metadata=metadata)
    return UserMessage(text, output, sender, parse_data=parse_data, input_channel=input_channel, metadata=metadata)


_INTENT_PREFIX = re.compile(r"^\s*/+")


def neutralise_payload(text: str, allowed: Sequence[str]) -> str:
    """Typed text that looks like a Rasa payload ("/intent{...}") unless it is one of `allowed`.

    Rasa parses "/intent{"slot": "value"}" from any channel without NLU, so a user could set
    entities (and slots) or jump to any intent by typing one. Only the payloads of the buttons the
    bot just showed (and the widget's opening payload) may pass; other text loses its leading
    slash and goes through NLU like any sentence.
    """
    if not _INTENT_PREFIX.match(text or ""):
        return text
    if text.strip() in allowed:
        return text.strip()
    return _INTENT_PREFIX.sub("", text)


# ---- request bodies ------------------------------------------------------------------------------


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The body of a streamed route (`stream=True`), read only up to `limit` bytes.

    A Content-Length above the limit is refused before anything is read; a chunked body is cut
    off as soon as it passes the limit (Sanic then drops the connection). Raises BodyTooLarge.
    """
    declared = request.headers.get("Content-Length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyTooLarge()
        except ValueError:
            raise BodyTooLarge() from None
    stream = getattr(request, "stream", None)
    if stream is None:  # not a streamed route (in-process tests): the body is already read
        body = request.body or b""
        if len(body) > limit:
            raise BodyTooLarge()
        return body
    stream.request_max_size = limit
    chunks: List[bytes] = []
    size = 0
    try:
        while True:
            chunk = await stream.read()
            if chunk is None:
                break
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge()
            chunks.append(chunk)
    except PayloadTooLarge:
        raise BodyTooLarge() from None
    return b"".join(chunks)


def json_depth_exceeds(body: bytes, max_depth: int) -> bool:
    """True when the JSON text nests objects/arrays deeper than `max_depth` (checked on the raw
    bytes before parsing: Python's json module recurses and a few thousand "[" raise
    RecursionError)."""
    depth = 0
    in_string = False
    escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > max_depth:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


# ---- client address and rate limits --------------------------------------------------------------


def client_ip(request: Request) -> str:
    """The client's address as a rate-limit key: Sanic's `remote_addr` when a trusted proxy is
    configured (SANIC_PROXIES_COUNT / SANIC_REAL_IP_HEADER / SANIC_FORWARDED_SECRET), else the
    peer. An IPv6 client counts by its /64 (one subscriber holds a whole /64 and could otherwise
    take a new address for every request)."""
    raw = request.remote_addr or request.ip or ""
    try:
        address = ipaddress.ip_address(raw.strip("[]"))
    except ValueError:
        return raw or "unknown"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def is_loopback_peer(request: Request) -> bool:
    try:
        return ipaddress.ip_address(request.ip).is_loopback
    except ValueError:
        return False


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)s?\s*$", re.I)
_UNIT = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(text: str) -> Tuple[int, float]:
    """'20/minute', '60/hour', '5/10s' -> (count, period in seconds)."""
    match = _RATE.match(str(text))
    if not match:
        raise ValueError(f"not a rate: {text!r} (expected e.g. '20/minute')")
    count, multiple, unit = int(match.group(1)), match.group(2), match.group(3).lower()
    period = (int(multiple) if multiple else 1) * _UNIT[unit]
    if count < 1 or period <= 0:
        raise ValueError(f"not a rate: {text!r}")
    return count, float(period)


class RateLimiter:
    """At most `count` requests per `period` seconds per key, with bursts up to `count`
    (the generic cell rate algorithm: one timestamp per key).

    Hand-written because the `limits` library (what Flask-Limiter and SlowAPI build on) needs
    packaging>=21 while Rasa 3.6 pins packaging<21, and the Sanic limiters are unmaintained
    wrappers of it. In memory, per process: the single shape's one Rasa server, and each server's
    fallback while Redis is down (the cluster shape's shared limits: `rasa_ext.channels.limits`).
    At most `max_keys` keys are kept (least recently used dropped), so a stream of new keys cannot
    exhaust memory.
    """

    def __init__(self, rate: str, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.count, self.period = parse_rate(rate)
        self.interval = self.period / self.count
        self.max_keys = max_keys
        self._tat: "OrderedDict[str, float]" = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, now: Optional[float] = None) -> bool:
        """Count one request for `key`: True if allowed, False if over the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tat = max(self._tat.get(key, now), now)
            if tat - now > self.period - self.interval:
                self._tat.move_to_end(key)
                return False
            self._tat[key] = tat + self.interval
            self._tat.move_to_end(key)
            while len(self._tat) > self.max_keys:
                self._tat.popitem(last=False)
            return True

    def retry_after(self, key: str, now: Optional[float] = None) -> int:
        now = time.monotonic() if now is None else now
        tat = self._tat.get(key, now)
        return max(1, int(tat - (self.period - self.interval) - now + 0.999))


# ---- secrets from the environment or var/ ---------------------------------------------------------


def secret_from_env_or_file(env_name: str, file_name: str) -> str:
    """The secret in `env_name`, else the one kept in the data directory (var/ or CLONUS_DATA_DIR)
    under `file_name`, generated there with mode 0600 on first use (like the Rasa token)."""
    value = os.environ.get(env_name)
    if value:
        return value
    from bot.settings import data_dir

    path = Path(data_dir()) / file_name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
        logger.info("%s not set: generated one in %s (mode 0600)", env_name, path)
    for _ in range(50):  # another process may be writing it right now
        value = path.read_text().strip()
        if value:
            return value
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty: set {env_name} or delete the file")


# ---- what a refused or failed turn says -----------------------------------------------------------


def _numbers() -> str:
    from bot.settings import clinic

    c = clinic()
    return f"In an emergency call {c.emergency_number} now. The clinic's number is {c.phone}."


def emergency_number() -> str:
    from bot.settings import clinic

    return clinic().emergency_number


def notice(kind: str, max_chars: int = DEFAULT_MAX_MESSAGE_CHARS) -> str:
    """The text of a refusal, always with the numbers to call."""
    if kind == "too_long":
        return (
            f"Your message is too long for the assistant (at most {max_chars:,} characters). "
            f"Please send it in shorter parts. {_numbers()}"
        )
    if kind == "too_many":
        return (
            "You are sending messages faster than the assistant can answer. "
            f"Please wait a minute, then try again. {_numbers()}"
        )
    if kind == "conversation_invalid":
        return f"This conversation has expired. Please start a new one. {_numbers()}"
    raise ValueError(kind)


def notice_messages(kind: str, max_chars: int = DEFAULT_MAX_MESSAGE_CHARS) -> List[Dict[str, Any]]:
    return [{"text": notice(kind, max_chars), "custom": {"notice": kind, "emergency_number": emergency_number()}}]


_warm = threading.Event()


def warm_failsafe() -> None:
    """Load the triage engine in the background when a channel starts: its first use loads the
    knowledge base, and the fail-safe path must not spend its time bound on that."""
    if _warm.is_set():
        return
    _warm.set()

    def load() -> None:
        from rasa_ext import failsafe

        try:
            failsafe.failsafe_messages("hello")
        except Exception:  # noqa: BLE001 - warming up only; the real call reports its own failure
            logger.error("could not warm up the fail-safe path")

    threading.Thread(target=load, name="warm-failsafe", daemon=True).start()


async def emergency_screen(text: str) -> List[Dict[str, Any]]:
    """The emergency instructions for `text` when it is an emergency (else []): for a message the
    channel refuses (over a rate limit), so that a refusal never withholds them."""
    return [m for m in await failsafe_turn(text) if (m.get("custom") or {}).get("emergency")]


def saved_after(error: Optional[BaseException]) -> Optional[bool]:
    """Whether a turn that raised `error` was stored: False when the database refused it, None
    when unknown (another failure), True when nothing failed (the assistant only said nothing)."""
    if error is None:
        return True
    from sqlalchemy.exc import SQLAlchemyError

    from rasa_ext.admission import TurnBusy, TurnTooSlow
    from rasa_ext.tracker_store import TrackerStoreUnavailable

    if isinstance(error, TurnTooSlow):
        return None  # still running: it may be stored yet
    return False if isinstance(error, (TrackerStoreUnavailable, SQLAlchemyError, TurnBusy)) else None


async def failsafe_turn(
    text: str, error: Optional[BaseException] = None, sender_id: Optional[str] = None
) -> List[Dict[str, Any]]:
    """`rasa_ext.failsafe.failsafe_messages(text)` off the event loop and bounded in time: when the
    emergency screen takes too long, the trouble notice (with the numbers) alone. `error` is what
    the turn raised (None: it raised nothing but gave no answer); it decides what the notice says
    about the message being saved. When the database refused the turn and the answer is an
    emergency, its decision record waits for the conversation's next stored turn
    (`rasa_ext.unsaved_decisions`; `sender_id`: the conversation)."""
    from rasa_ext import failsafe

    saved = saved_after(error)
    loop = asyncio.get_running_loop()
    try:
        messages, assessment = await asyncio.wait_for(
            loop.run_in_executor(None, functools.partial(failsafe.failsafe_outcome, text, saved=saved)),
            FAILSAFE_SCREEN_SECONDS,
        )
    except Exception as exc:  # noqa: BLE001 - timeout or anything else: the honest notice still goes out
        logger.error("fail-safe screen did not finish (%s)", type(exc).__name__)
        return [failsafe.trouble_message(saved)]
    if saved is False and sender_id and assessment is not None:
        _remember_unsaved(sender_id, assessment)
    return messages


def _remember_unsaved(sender_id: str, assessment: Any) -> None:
    try:
        from bot.decision import Decision
        from rasa_ext import unsaved_decisions

        record = Decision.of(assessment, "emergency", source="failsafe", action="failsafe_unsaved", told_at=time.time())
        unsaved_decisions.remember(sender_id, record.to_dict())
    except Exception as exc:  # noqa: BLE001 - the person's answer goes out whatever the record does
        logger.error("could not keep the fail-safe decision of a refused turn (%s)", type(exc).__name__)
