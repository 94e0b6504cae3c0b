"""One assessment per turn, computed by the Rasa server right after the user message is parsed.

`install()` (called by rasa_ext.resilience.install, so by the server entry point and when the
tracker store loads) wraps two methods of Rasa 3.6's MessageProcessor:

- `_handle_message_with_tracker` (parse, then `UserUttered` on the tracker): the triage engine reads
  the new message (bot.triage.Assessor, kept per conversation in this process, so the cost is one
  message per turn; a conversation this process has not seen, or whose messages changed, is read
  once from the start) and the result goes into the slot `assessment` (SlotSet, before
  action_extract_slots and every policy). EmergencyPolicy, the fail-safe path (rasa_ext.resilience)
  and every custom action (actions.common.conversation_assessment) read it instead of running the
  engine again.
- `log_message` (before the session start, so that a welcome knows it too): the language of the
  new message is decided once (bot.language.detect; a `/intent` payload or a typed button is
  English) and kept in the message's metadata, `metadata["language"]` ("en", "es", ...); right
  after the parse it also goes into the slot `language`, which responses are conditioned on
  (domain.yml) and actions read. A message that is not English fills no slot from its text
  (`action_extract_slots` is not run for it): the assistant cannot read it, so an active form keeps
  its question (EmergencyPolicy answers it; see there).
- `_run_prediction_loop`: when the turn ends with an urgent or emergency finding that nobody told
  the person (the reply was an education answer, chitchat, the fallback ...), `action_triage` runs
  now, in the same turn; a medicine name the knowledge base cannot place that no reply said back
  gets `utter_unrecognised_medicine`. (Inside a form, EmergencyPolicy tells an urgent finding
  before the form's next question; an emergency always comes first.)

The slot value is `Assessment.to_turn_dict()` (the `python -m bot assess --json` object plus
`asked`) and:
    messages          how many user messages of the tracker it covers (a reader whose tracker has
                      more or fewer recomputes instead of trusting it)
    stated_emergency  this message itself says there is an emergency now (bot.triage, repeated
                      every time it is said)
    crisis            RF-SELF-HARM has fired in this conversation: crisis mode, for the rest of
                      the conversation (it never ends by itself, not even after "I'm not going to
                      hurt myself": the cautious reading; staff see the mark in the console)
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from rasa.shared.core.constants import SESSION_START_METADATA_SLOT
from rasa.shared.core.events import SlotSet, UserUttered

from bot.triage import Assessment, Assessor
from bot.vocab import RANK

logger = logging.getLogger(__name__)

SLOT = "assessment"
CRISIS_RULE = "RF-SELF-HARM"
CRISIS_RESPONSE = "utter_crisis_support"
UNRECOGNISED_RESPONSE = "utter_unrecognised_medicine"
TRIAGE_ACTION = "action_triage"
#: The slot and the user message's metadata key that hold the language of the latest message.
LANGUAGE_SLOT = "language"
LANGUAGE_KEY = "language"
ENGLISH = "en"
#: Replies to a message that is not English (domain.yml; Spanish variations on the `language` slot).
NOT_ENGLISH_RESPONSE = "utter_not_english"
NOT_ENGLISH_URGENT_RESPONSE = "utter_not_english_urgent"
EMERGENCY_NOT_ENGLISH_RESPONSE = "utter_emergency_not_english"
TROUBLE_NOT_ENGLISH_RESPONSE = "utter_trouble_not_english"
#: Conversations whose engine state this process keeps (least recently used dropped first).
CACHE_SIZE = 2000


def user_texts(tracker: Any) -> List[str]:
    """Everything the person wrote in this conversation (session), oldest first; a message that
    the fallback reverted still counts (what was said was said)."""
    return [e.text for e in tracker.events if isinstance(e, UserUttered) and e.text]


@dataclass
class _Conversation:
    texts: List[str] = field(default_factory=list)
    assessor: Assessor = field(default_factory=Assessor)
    crisis: bool = False

    def add(self, text: str) -> None:
        self.texts.append(text)
        self.assessor.add(text)
        if any(f.id == CRISIS_RULE for f in self.assessor.assessment.red_flags):
            self.crisis = True


_cache: "OrderedDict[str, _Conversation]" = OrderedDict()


def _conversation(sender_id: str, texts: List[str], carried_crisis: bool) -> _Conversation:
    conv = _cache.get(sender_id)
    if conv is not None and (len(conv.texts) > len(texts) or conv.texts != texts[: len(conv.texts)]):
        conv = None  # another session, or a tracker this process did not follow: read it again
    if conv is None:
        conv = _Conversation()
    for text in texts[len(conv.texts):]:
        conv.add(text)
    conv.crisis = conv.crisis or carried_crisis
    _cache[sender_id] = conv
    _cache.move_to_end(sender_id)
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return conv


def compute(tracker: Any) -> Dict[str, Any]:
    """The slot value for this tracker (reads only the messages this process has not read yet)."""
    texts = user_texts(tracker)
    previous = tracker.get_slot(SLOT)
    carried = bool(isinstance(previous, dict) and previous.get("crisis"))
    conv = _conversation(tracker.sender_id, texts, carried)
    value = conv.assessor.assessment.to_turn_dict()
    value.update(messages=len(texts), stated_emergency=conv.assessor.latest_states_emergency, crisis=conv.crisis)
    return value


def current(tracker: Any) -> Optional[Dict[str, Any]]:
    """The turn's assessment: the slot when it covers this tracker's messages, else computed
    (a tracker that did not come through the seam, e.g. a unit test). None when the engine fails."""
    value = tracker.get_slot(SLOT)
    if isinstance(value, dict) and value.get("messages") == len(user_texts(tracker)):
        return value
    try:
        return compute(tracker)
    except Exception as exc:  # noqa: BLE001 - the callers decide what a missing assessment means
        logger.error("triage engine failed on the turn (%s)", type(exc).__name__)
        return None


def assessment(value: Optional[Dict[str, Any]]) -> Optional[Assessment]:
    return Assessment.from_dict(value) if value else None


def unannounced(value: Optional[Dict[str, Any]], tracker: Any, levels: tuple = ("emergency",)) -> List[str]:
    """Ids of rules at these levels in the assessment that the person has not been told at that
    level yet: not in the `red_flags` slot, or in it while the level told (`triage_level`) is lower.
    A rule can rise with a later message ("I take zoloft and my legs jerk": SS-SYMPTOMS, urgent;
    "now sweating and he took demerol": SS-SYMPTOMS, emergency): that is a new emergency."""
    if not value:
        return []
    announced = set(tracker.get_slot("red_flags") or [])
    told = RANK.get(tracker.get_slot("triage_level") or "", -1)
    return [
        f["id"] for f in value.get("red_flags") or []
        if f.get("level") in levels and (f["id"] not in announced or RANK.get(f.get("level"), RANK["emergency"]) > told)
    ]


# ------------------------------------------------------------------------------------ language


def text_language(text: Optional[str], metadata: Optional[Dict[str, Any]] = None) -> str:
    """The language of one user message (ISO 639-1): what the Rasa server recorded in its metadata,
    else bot.language.detect. A `/intent` payload and a typed button title are English."""
    recorded = (metadata or {}).get(LANGUAGE_KEY) if isinstance(metadata, dict) else None
    if isinstance(recorded, str) and recorded:
        return recorded
    if not text or text.startswith("/") or (isinstance(metadata, dict) and metadata.get("button")):
        return ENGLISH
    try:
        from bot.language import detect

        return detect(text)
    except Exception as exc:  # noqa: BLE001 - English is the default the assistant works in
        logger.error("language identification failed (%s)", type(exc).__name__)
        return ENGLISH


def language(tracker: Any) -> str:
    """The language of the latest user message of the tracker ("en" when there is none)."""
    message = tracker.latest_message
    if not isinstance(message, UserUttered) or not (message.text or message.metadata):
        return ENGLISH
    return text_language(message.text, message.metadata)


def reply_language(tracker: Any) -> str:
    """The language of the message a reply answers: the latest user message's, or at a session
    start (which runs before the new message is on the tracker) the one in the session's metadata."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return text_language(event.text, event.metadata)
        if isinstance(event, SlotSet) and event.key == SESSION_START_METADATA_SLOT:
            recorded = (event.value or {}).get(LANGUAGE_KEY) if isinstance(event.value, dict) else None
            return recorded if isinstance(recorded, str) and recorded else ENGLISH
    slot = tracker.get_slot(LANGUAGE_SLOT)
    return slot if isinstance(slot, str) and slot else ENGLISH


def not_english_response(value: Optional[Dict[str, Any]], tracker: Any) -> str:
    """The reply to a message that is not English and states no emergency: the assistant reads
    English for now, with the numbers; the variant that says "today" for an unannounced urgent finding."""
    return NOT_ENGLISH_URGENT_RESPONSE if unannounced(value, tracker, ("urgent",)) else NOT_ENGLISH_RESPONSE


def _record_language(message: Any) -> None:
    """Decide the language of an incoming UserMessage once and keep it in its metadata."""
    metadata = dict(message.metadata) if isinstance(message.metadata, dict) else {}
    metadata.pop(LANGUAGE_KEY, None)  # the server decides it, never a caller
    message.metadata = {**metadata, LANGUAGE_KEY: text_language(message.text, metadata)}


def emergency_due(value: Optional[Dict[str, Any]], tracker: Any) -> bool:
    """The conversation needs the emergency message now: an emergency-level rule fired that the
    `red_flags` slot does not hold yet, or this message itself states an emergency (saying it is
    an emergency always gets the message again, as action_triage does). False without an
    assessment (the engine failed: nothing can be named)."""
    if not value:
        return False
    return bool(value.get("stated_emergency")) or bool(unannounced(value, tracker))


# ------------------------------------------------------------------------------------ the seam

_turn: Dict[str, Dict[str, Any]] = {}


async def _after_parse(processor: Any, tracker: Any) -> None:
    tracker.update(SlotSet(LANGUAGE_SLOT, language(tracker)), processor.domain)
    try:
        value = compute(tracker)
    except Exception as exc:  # noqa: BLE001 - the readers compute it again (or answer without it)
        logger.error("triage engine failed on the turn (%s)", type(exc).__name__)
        return
    _turn[tracker.sender_id] = value
    tracker.update(SlotSet(SLOT, value), processor.domain)


async def _after_loop(processor: Any, output_channel: Any, tracker: Any) -> None:
    """Tell, in this turn, an urgent/emergency finding or an unrecognised name no reply told."""
    value = _turn.pop(tracker.sender_id, None)
    if value is None or value.get("crisis") or tracker.is_paused():
        return
    from rasa.core.actions.action import action_for_name_or_text, create_bot_utterance
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.shared.core.constants import ACTION_LISTEN_NAME

    if tracker.get_slot(SLOT) != value:  # the fallback reverted the turn's events, its slot included
        tracker.update(SlotSet(SLOT, value), processor.domain)
    if language(tracker) != ENGLISH:
        # EmergencyPolicy answered it (the emergency reply, or "English for now" with the numbers,
        # "today" when urgent); English text about the finding is told at the next English message.
        return
    if unannounced(value, tracker, ("urgent", "emergency")):
        for name in (TRIAGE_ACTION, ACTION_LISTEN_NAME):
            action = action_for_name_or_text(name, processor.domain, processor.action_endpoint)
            prediction = PolicyPrediction.for_action_name(processor.domain, name, "rasa_ext.turn")
            await processor._run_action(action, tracker, output_channel, processor.nlg, prediction)
        return
    said = set(tracker.get_slot("unrecognised_medications") or [])
    new = [w for w in value.get("unrecognised") or [] if w not in said]
    if not new:
        return
    message = await processor.nlg.generate(
        UNRECOGNISED_RESPONSE, tracker, output_channel.name(), names=", ".join(new)
    )
    events = [SlotSet("unrecognised_medications", list(value.get("unrecognised") or []))]
    if message:
        events.insert(0, create_bot_utterance(dict(message)))
    await processor._send_bot_messages(events, tracker, output_channel)
    tracker.update_with_events(events, processor.domain)


_installed = False


def install() -> None:
    """Put the seam in place (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    from rasa.core.processor import MessageProcessor

    handle = MessageProcessor._handle_message_with_tracker
    loop = MessageProcessor._run_prediction_loop
    log_message = MessageProcessor.log_message
    extract = MessageProcessor.run_action_extract_slots

    async def log_message_with_language(self: Any, message: Any, should_save_tracker: bool = True) -> Any:
        try:
            _record_language(message)
        except Exception as exc:  # noqa: BLE001 - the message is handled as English
            logger.error("could not record the message's language (%s)", type(exc).__name__)
        return await log_message(self, message, should_save_tracker)

    async def extract_unless_not_english(self: Any, output_channel: Any, tracker: Any) -> Any:
        if language(tracker) != ENGLISH:
            return tracker  # text the assistant cannot read answers no form question
        return await extract(self, output_channel, tracker)

    async def handle_and_assess(self: Any, message: Any, tracker: Any) -> None:
        await handle(self, message, tracker)
        await _after_parse(self, tracker)

    async def loop_and_tell(self: Any, output_channel: Any, tracker: Any) -> None:
        await loop(self, output_channel, tracker)
        try:
            await _after_loop(self, output_channel, tracker)
        except Exception as exc:  # noqa: BLE001 - the turn's own reply has gone out already
            logger.error("could not tell the turn's finding (%s)", type(exc).__name__)

    MessageProcessor._handle_message_with_tracker = handle_and_assess
    MessageProcessor.log_message = log_message_with_language
    MessageProcessor.run_action_extract_slots = extract_unless_not_english
    MessageProcessor._run_prediction_loop = loop_and_tell
