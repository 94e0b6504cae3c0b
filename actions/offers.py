"""Offers that can be taken: "yes", "sure", "yes pls" or the option's own words after the bot's
"Do you want to know ...?" do what was offered; a button's title typed as text acts as the button;
empty or emoji-only input gets the menu instead of a dead end.

The offer is read from the last bot message of the conversation: its response name (Rasa records it
as `utter_action` in the BotUttered metadata) and its buttons. `OFFERS` lists, for each response that
ends with a question, what its options are and which one a plain "yes" takes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms_common import latest_text


@dataclass(frozen=True)
class Option:
    words: str  # regular expression: the option's own words ("what causes it")
    do: str  # a response name ("utter_education/causes"), or "book" / "symptoms" / "medicines"


# What each response that ends with a question offers; the first option is what "yes" takes.
OFFERS: Dict[str, Tuple[Option, ...]] = {
    "utter_education/what_is_clonus": (
        Option(r"caus|why", "utter_education/causes"),
        Option(r"check|test|diagnos|find|doctors? (?:look|tell)", "utter_education/diagnosis"),
    ),
    "utter_education/causes": (Option(r"check|test|diagnos|find|doctor", "utter_education/diagnosis"),),
    "utter_education/diagnosis": (
        Option(r"treat|cure|help|fix|therap", "utter_education/treatment"),
        Option(r"book|visit|appointment|appt", "book"),
    ),
    "utter_education/treatment": (Option(r"medic|side effect|pill|drug|meds", "utter_education/medications"),),
    "utter_education/medications": (Option(r"book|visit|appointment|appt", "book"),),
    "utter_education/home_remedies": (Option(r"treat|other|therap|medic", "utter_education/treatment"),),
    "utter_education/serotonin_syndrome": (Option(r"check|medic|meds|pills|drugs", "medicines"),),
    "utter_education/when_to_worry": (Option(r"book|visit|appointment|appt", "book"),),
}

# The actions behind the payloads of the project's buttons (domain.yml and data/education.yml).
_PAYLOAD_DOES = {"/book_appointment": "book", "/report_symptom": "symptoms", "/request_human": "utter_request_human"}
_NO_WORDS = re.compile(r"[^\W_]", re.UNICODE)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def _has_words(text: str) -> bool:
    """False for empty, emoji-only or punctuation-only input."""
    return bool(_NO_WORDS.search(text or ""))


def _previous_turn(tracker: Tracker) -> List[Dict[str, Any]]:
    """The bot messages sent between the previous user message and the latest one."""
    events = list(tracker.events)
    # skip back over the latest user message
    index = len(events) - 1
    while index >= 0 and events[index].get("event") != "user":
        index -= 1
    turn: List[Dict[str, Any]] = []
    for event in reversed(events[:index]):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            turn.append(event)
    return list(reversed(turn))


def _buttons(turn: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [b for e in turn for b in ((e.get("data") or {}).get("buttons") or []) if isinstance(b, dict)]


def typed_button(text: str, turn: Sequence[Dict[str, Any]]) -> Optional[str]:
    """The payload of the button whose title the person typed ("i have symptoms"), or None."""
    said = _normalise(text)
    if not said:
        return None
    matches = [b for b in _buttons(turn) if _normalise(str(b.get("title") or "")) == said]
    return str(matches[0].get("payload") or "") if len(matches) == 1 else None


def last_offer(turn: Sequence[Dict[str, Any]]) -> Optional[str]:
    """The response name of the last offer the bot made in that turn."""
    for event in reversed(turn):
        name = (event.get("metadata") or {}).get("utter_action")
        if name in OFFERS:
            return name
    return None


def chosen_option(text: str, options: Sequence[Option], affirmed: bool) -> Optional[Option]:
    said = _normalise(text)
    for option in options:
        if re.search(option.words, said):
            return option
    return options[0] if affirmed and options else None


class ActionTakeOffer(Action):
    """A yes, a no, a typed button title or an option's words, after whatever the bot last said."""

    def name(self) -> Text:
        return "action_take_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        raw = ((tracker.latest_message or {}).get("text") or "").strip()
        text = latest_text(tracker)
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        turn = _previous_turn(tracker)
        events: List[EventType] = [SlotSet("offered_booking", False)] if tracker.get_slot("offered_booking") else []

        if not raw.startswith("/") and not _has_words(raw):
            dispatcher.utter_message(response="utter_menu")
            return events

        payload = typed_button(text, turn) if text else None
        if payload:
            if payload == "/affirm":
                intent = "affirm"
            elif payload == "/deny":
                intent = "deny"
            else:
                return events + await self._do(_PAYLOAD_DOES.get(payload) or _education(payload), dispatcher, tracker, domain)

        offer = last_offer(turn)
        if offer:
            option = chosen_option(text, OFFERS[offer], affirmed=intent == "affirm")
            if option is not None:
                return events + await self._do(option.do, dispatcher, tracker, domain)
        if intent == "affirm":
            dispatcher.utter_message(response="utter_menu")
        else:
            dispatcher.utter_message(response="utter_anything_else")
        return events

    async def _do(
        self, what: Optional[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        if what == "book":
            return [FollowupAction("booking_form")]
        if what == "symptoms":
            from actions.symptoms import ActionStartSymptomIntake

            started = await ActionStartSymptomIntake().run(dispatcher, tracker, domain)
            typed = latest_text(tracker)
            # The typed title ("I have symptoms") describes nothing: the first question asks.
            started = [e for e in started if not (e.get("name") == "symptom_description" and e.get("value") == typed[:1000])]
            return started + [FollowupAction("symptom_form")]
        if what == "medicines":
            dispatcher.utter_message(response="utter_ask_current_medicines")
            return []
        if what:
            dispatcher.utter_message(response=what)
            return []
        dispatcher.utter_message(response="utter_menu")
        return []


def _education(payload: str) -> Optional[str]:
    m = re.fullmatch(r"/(education/[a-z_]+)", payload or "")
    return f"utter_{m.group(1)}" if m else None
