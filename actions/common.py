"""Shared helpers for the custom actions: reading the conversation, running the triage engine,
and turning an assessment into slot events and messages."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.decision import SLOT as DECISION_SLOT
from bot.decision import Decision, turn_of
from bot.settings import clinic
from bot.triage import Assessment, assess
from bot.triage_text import DISCLAIMER, describe
from rasa_ext.failsafe import emergency_custom

logger = logging.getLogger(__name__)

BOOK_BUTTONS = [
    {"title": "Book an appointment", "payload": "/book_appointment"},
    {"title": "No, thanks", "payload": "/deny"},
]


def user_texts(tracker: Tracker) -> List[str]:
    """Everything the person wrote in this conversation, oldest first."""
    return [e.get("text") for e in tracker.events if e.get("event") == "user" and e.get("text")]


def turn_value(tracker: Tracker) -> Optional[Dict[Text, Any]]:
    """The `assessment` slot when it covers every user message of this tracker (the Rasa server sets
    it after each message, rasa_ext.turn), else None."""
    value = tracker.get_slot("assessment")
    if isinstance(value, dict) and value.get("messages") == len(user_texts(tracker)):
        return value
    return None


def conversation_assessment(tracker: Tracker) -> Assessment:
    """The turn's assessment from the slot; the engine runs here only when the slot is missing or
    stale (a tracker that did not come through the Rasa server's seam)."""
    value = turn_value(tracker)
    if value is not None:
        return Assessment.from_dict(value)
    return assess(user_texts(tracker))


def in_crisis(tracker: Tracker) -> bool:
    """Crisis mode (RF-SELF-HARM fired in this conversation): no booking, no menu buttons."""
    value = tracker.get_slot("assessment")
    return bool(isinstance(value, dict) and value.get("crisis")) or "RF-SELF-HARM" in (tracker.get_slot("red_flags") or [])


def current_medication_names(assessment: Assessment) -> List[str]:
    seen: Dict[str, None] = {}
    for med in assessment.medications:
        if med.status == "current":
            seen.setdefault(med.name, None)
    return list(seen)


def slot_events(assessment: Assessment, level: Optional[str] = None) -> List[EventType]:
    return [
        SlotSet("triage_level", level or assessment.triage_level),
        SlotSet("medications", current_medication_names(assessment)),
        SlotSet("red_flags", [flag.id for flag in assessment.red_flags]),
        SlotSet("unrecognised_medications", list(assessment.unrecognised)),
    ]


def medicines_said_back(assessment: Assessment) -> Optional[str]:
    """'I noted these medicines: ...' so the person can correct a misheard name."""
    current = current_medication_names(assessment)
    past = sorted({m.name for m in assessment.medications if m.status == "past"} - set(current))
    parts = []
    if current:
        parts.append("I noted these medicines you take now: " + ", ".join(current) + ".")
    if past:
        parts.append("And these you took before: " + ", ".join(past) + ".")
    return " ".join(parts) or None


def emergency_payload(text: Text) -> Dict[Text, Any]:
    """Custom data sent with every emergency message, so channels can make it unmistakable
    (the same shape as the Rasa server's fail-safe emergency message)."""
    return emergency_custom(text)


def dispatch_assessment(
    dispatcher: CollectingDispatcher, assessment: Assessment, say_medicines: bool = True, offer_booking: bool = True
) -> bool:
    """Tell the person the outcome; returns True when booking was offered (buttons with a routine
    outcome, unless `offer_booking` is False: the person already asked to book)."""
    if say_medicines:
        said = medicines_said_back(assessment)
        if said:
            dispatcher.utter_message(text=said)
    text = outcome_text(assessment)
    if assessment.triage_level == "emergency":
        dispatcher.utter_message(text=text, json_message=emergency_payload(text))
        return False
    if assessment.triage_level == "routine" and offer_booking:
        dispatcher.utter_message(text=text, buttons=BOOK_BUTTONS)
        return True
    dispatcher.utter_message(text=text)
    return False


def outcome_text(assessment: Assessment) -> str:
    """describe() without the automated / not-a-doctor sentence: the welcome (utter_welcome, once
    per conversation at session start) says it, and a conversation hears it once."""
    lines = describe(assessment, clinic()).split("\n")
    return "\n".join(line for line in lines if line.strip() != DISCLAIMER)


def turn_anchor(tracker: Tracker) -> str:
    """What names this turn across attempts: the stored turn it follows.

    The Rasa server may refuse to store a turn after its actions ran (the database locked
    mid-turn: the channel answers 503 "please send it again"). The resent message comes with a new
    timestamp and message id, but it follows the same stored conversation: everything before the
    latest user message was read from the tracker store, so the previous user message's timestamp
    is the same in both attempts (and differs for any later turn). The first message of a session
    has no stored predecessor (its session start is made again on each attempt): it is named by
    its day and its text, so a resend of the same text is the same turn."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) >= 2:
        return "after:" + repr(float(users[-2].get("timestamp") or 0.0))
    latest = users[-1] if users else {}
    day = datetime.fromtimestamp(float(latest.get("timestamp") or 0.0), tz=timezone.utc).date().isoformat()
    return "first:" + day + ":" + (latest.get("text") or "")


def turn_timestamp(tracker: Tracker) -> Optional[float]:
    """The timestamp of this turn's user message (the latest), as the Rasa server will store it:
    a row written by this turn's actions carries it, and staff see the row only once that message
    is stored (bot.db.in_transcript). None when the tracker has no timed user message."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    value = users[-1].get("timestamp") if users else None
    return float(value) if isinstance(value, (int, float)) else None


def idempotency_key(tracker: Tracker, purpose: str, content: Any = None) -> str:
    """SHA-256 hex of (purpose, conversation, turn_anchor, content): the key under which a side
    effect of this turn is stored (bot.db: unique), the same when the turn is resent."""
    material = json.dumps([purpose, tracker.sender_id, turn_anchor(tracker), content], sort_keys=True, default=str)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def decision_event(
    tracker: Tracker, assessment: Assessment, level: Optional[str] = None, purpose: str = "triage"
) -> EventType:
    """The turn's triage decision as one event: the slot `triage_decision` holding its record
    (bot.decision), stored by the Rasa server with the turn's other events and read by the staff
    console. A turn the Rasa server refused to store leaves no record; its resend decides again.
    The record's row in `clonus_triage_assessment` (its projection) is written here too."""
    decision = Decision.of(assessment, level, source="action", action=purpose, turn=turn_of(tracker.events))
    record(tracker, decision, purpose)
    return SlotSet(DECISION_SLOT, decision.to_dict())


def record(tracker: Tracker, decision: Decision, purpose: str = "triage") -> None:
    """Write the decision record's projection row; a database problem never stops the chat (the
    console consumer writes the rows of stored records that have none).

    Keyed by the turn (idempotency_key): a turn the Rasa server refused and the person sends again
    replaces the row of its refused attempt instead of adding a second one. Marked with the turn's
    user message (turn_timestamp): a refused turn never resent is not shown to staff."""
    try:
        from bot.db import record_assessment

        record_assessment(
            idempotency_key=idempotency_key(tracker, purpose),
            turn_timestamp=turn_timestamp(tracker),
            conversation_id=tracker.sender_id,
            level=decision.level,
            rule_ids=decision.rule_ids,
            reasons=decision.reasons,
            medications=decision.medications,
            decision_id=decision.id,
            source=decision.source,
        )
    except Exception:  # noqa: BLE001 - logged without patient text, conversation goes on
        logger.exception("could not store the triage assessment")
