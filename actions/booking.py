"""Booking form: validated answers, a read-back, and the request stored for the clinic."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import conversation_assessment, idempotency_key, turn_timestamp
from actions.forms_common import first_answers, is_button_choice, latest_text, session_user_texts, typed_answer
from bot.booking import (
    CORRECTABLE_FIELDS,
    booking_answers,
    describe_time,
    format_phone,
    looks_like_name,
    normalise_phone,
    parse_correction,
    parse_name,
    parse_preferred_time,
)
from bot.settings import clinic
from bot.text_utils import yes_or_no

logger = logging.getLogger(__name__)

BOOKING_SLOTS = ("patient_name", "phone_number", "preferred_time", "visit_reason", "booking_confirmed")
#: The answers of the booking form (the fields a read-back correction can change).
BOOKING_FIELDS = CORRECTABLE_FIELDS
# A message that asks for a booking: only such messages lend their times and reasons to the form.
_BOOKING_WORDS = re.compile(r"\b(?:book\w*|appointments?|appts?|schedul\w*|visit|come in|see (?:a|the) (?:doctor|neurologist))\b", re.I)
# Words naming a day: a corrected time without one keeps the day already chosen ("make it 10:30").
_DAY_WORDS = re.compile(
    r"\b(?:mon|tue|wed|thu|fri|sat|sun)\w*|\b(?:today|tomorrow|tmrw|tonight|week|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*|\d+(?:st|nd|rd|th)\b|\d+/\d+",
    re.I,
)


def _number_like(text: str) -> bool:
    return normalise_phone(text) is not None or bool(re.fullmatch(r"[\d\s()+.\-]*\d[\d\s()+.\-]*", text))


def _time_fits(text: str) -> bool:
    return parse_preferred_time(text, clinic()).problem != "unparsed"


def _reason_fits(text: str) -> bool:
    """The visit reason is free text: anything but a question (an education question mid-form)."""
    return "?" not in text and len(text.strip()) >= 2


# What an answer must look like to be taken whatever intent the classifier gave it.
_FITS: Dict[str, Callable[[str], bool]] = {
    "patient_name": looks_like_name,
    "phone_number": _number_like,  # anything number-like is an attempt: validation answers a wrong one
    "preferred_time": _time_fits,
    "visit_reason": _reason_fits,
}

TIME_PROBLEMS = {
    "unparsed": "Sorry, I couldn't tell which day and time you mean.",
    "past": "That time has already passed.",
    "closed_day": "We're closed that day.",
    "closed_time": "We're closed at that time.",
}


_CACHE: "OrderedDict[tuple, Dict[Text, Any]]" = OrderedDict()


def _booking_answers(tracker: Tracker) -> Dict[Text, Any]:
    """`_read_answers`, computed once per turn (each extract_/validate_ method asks for it)."""
    requested = tracker.get_slot("requested_slot")
    intent = (tracker.latest_message or {}).get("intent") or {}
    key = (
        tracker.sender_id,
        requested,
        latest_text(tracker),
        intent.get("name"),
        intent.get("confidence"),
        tuple(tracker.get_slot(s) for s in BOOKING_SLOTS),
        tuple(session_user_texts(tracker)) if requested is None else (),
        _previous_value(tracker, "preferred_time"),
    )
    if key not in _CACHE:
        _CACHE[key] = _read_answers(tracker)
        while len(_CACHE) > 256:
            _CACHE.popitem(last=False)
    return dict(_CACHE[key])


def _read_answers(tracker: Tracker) -> Dict[Text, Any]:
    """Every booking answer the latest message gives (or, when the form starts, the session's
    messages gave): the requested slot's answer, a correction of an answer given before ("no wait
    wrong number, its 312-555-0177"), and answers to questions not asked yet."""
    requested = tracker.get_slot("requested_slot")
    profile = clinic()
    if requested is None:  # the form starts: ask only what the conversation has not said yet
        found: Dict[Text, Any] = {}
        for text in session_user_texts(tracker):
            answers = booking_answers(text, profile)
            if not _BOOKING_WORDS.search(text):
                answers.pop("preferred_time", None)
                answers.pop("visit_reason", None)
            found.update(answers)
        return first_answers(found, tracker, BOOKING_FIELDS)
    text = latest_text(tracker)
    if not text:
        return {}
    if requested == "booking_confirmed":
        return _read_back_answer(text, tracker)
    out: Dict[Text, Any] = {}
    if requested in _FITS:
        answer = typed_answer(tracker, requested, fits=_FITS[requested], always_if_fits=requested != "visit_reason")
        if answer is None and requested == "visit_reason" and _reason_fits(text) and not _is_interruption(tracker):
            # A reason that mentions clonus, a stroke or Botox is the reason, not an education question.
            answer = text
        if answer:
            out[requested] = answer
    correction = parse_correction(text, profile)
    if correction and correction.value and correction.field != requested and tracker.get_slot(correction.field):
        out[correction.field] = correction.value
    for slot, value in booking_answers(text, profile).items():
        if slot != requested and slot not in out and not tracker.get_slot(slot):
            out[slot] = value
    return out


def _is_interruption(tracker: Tracker) -> bool:
    """At the reason question only stopping, asking for a person, "are you a bot?" and "why?" interrupt:
    a reason about clonus, a stroke or Botox is not an education question."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    name, confidence = intent.get("name"), intent.get("confidence") or 0
    if name in {"cancel", "goodbye"}:
        return confidence >= 0.5
    return name in {"request_human", "bot_challenge", "ask_why"} and confidence >= 0.9


def _read_back_answer(text: str, tracker: Tracker) -> Dict[Text, Any]:
    """At the read-back, a correction changes that field only ("the phone is wrong, it's ...")."""
    correction = parse_correction(text, clinic())
    if correction is None:
        # A plain yes or no in words ("yes, book it" was read as book_appointment): whatever the intent.
        # Anything else: the slot mappings read the affirm / deny intents.
        said = yes_or_no(text)
        return {} if said is None else {"booking_confirmed": said}
    intent = (tracker.latest_message or {}).get("intent") or {}
    if correction.value is None and intent.get("name") == "affirm" and not re.search(r"\b(?:wrong|incorrect|not right|typo|change)\b", text, re.I):
        return {}  # "yes that's my number" names a field but corrects nothing
    return {correction.field: correction.value, "booking_confirmed": None}


def _with_day_kept(value: str, previous: Optional[str]) -> str:
    """'10:30 instead' after Friday 10:00 means Friday 10:30."""
    if not previous or _DAY_WORDS.search(value):
        return value
    try:
        day = datetime.fromisoformat(previous)
    except ValueError:
        return value
    return f"{day:%B} {day.day} {day.year} {value}"


class ValidateBookingForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_booking_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        if tracker.get_slot("offered_booking"):
            events.append(SlotSet("offered_booking", False))
        return events

    # Answers that plainly fit the question are taken whatever intent the classifier gave them.
    async def extract_patient_name(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return _only("patient_name", tracker)

    async def extract_phone_number(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return _only("phone_number", tracker)

    async def extract_preferred_time(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return _only("preferred_time", tracker)

    async def extract_visit_reason(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return _only("visit_reason", tracker)

    async def extract_booking_confirmed(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return _only("booking_confirmed", tracker)

    async def validate_patient_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:
            return {"patient_name": None}  # a correction that says only that the name is wrong: asked again
        name = parse_name(str(value))
        if not name and not _answers_another_field("patient_name", tracker):
            dispatcher.utter_message(response="utter_wrong_patient_name")
        return {"patient_name": name}

    async def validate_phone_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:
            return {"phone_number": None}
        phone = normalise_phone(str(value))
        if not phone and not _answers_another_field("phone_number", tracker):
            dispatcher.utter_message(response="utter_wrong_phone_number")
        return {"phone_number": phone}

    async def validate_preferred_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:
            return {"preferred_time": None}
        text = str(value)
        try:  # already validated (an ISO timestamp carried over from an earlier attempt)
            datetime.fromisoformat(text)
            return {"preferred_time": text}
        except ValueError:
            pass
        previous = _previous_value(tracker, "preferred_time")
        parsed = parse_preferred_time(_with_day_kept(text, previous), clinic())
        if parsed.problem or parsed.when is None:
            if not _answers_another_field("preferred_time", tracker):
                # The hours follow in the question asked again (utter_ask_preferred_time): said once.
                dispatcher.utter_message(
                    response="utter_wrong_preferred_time", problem=TIME_PROBLEMS.get(parsed.problem or "unparsed")
                )
            return {"preferred_time": None}
        return {"preferred_time": parsed.when.isoformat()}

    async def validate_visit_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:
            return {"visit_reason": None}
        reason = str(value).strip()
        if len(reason) < 2 or reason.startswith("/") or is_button_choice(tracker.latest_message or {}):
            dispatcher.utter_message(response="utter_wrong_visit_reason")
            return {"visit_reason": None}
        return {"visit_reason": reason[:500]}

    async def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is True:
            return {"booking_confirmed": True}
        if value is None:
            return {"booking_confirmed": None}
        # "no" without saying what is wrong: ask which part to change, keep the rest.
        return {"booking_confirmed": None, "booking_change": "ask"}


def _only(slot: str, tracker: Tracker) -> Dict[Text, Any]:
    found = _booking_answers(tracker)
    return {slot: found[slot]} if slot in found else {}


def _answers_another_field(slot: str, tracker: Tracker) -> bool:
    """The latest message was taken for `slot` but answers (or corrects) another field: it is not
    told off as a bad answer to this one."""
    found = _booking_answers(tracker)
    return any(other != slot and other in BOOKING_FIELDS for other in found) and slot not in found


def _previous_value(tracker: Tracker, slot: str) -> Optional[str]:
    """The last accepted (ISO) value of a time slot in the conversation, or None."""
    value = None
    for event in tracker.events:
        if event.get("event") == "slot" and event.get("name") == slot and event.get("value"):
            try:
                datetime.fromisoformat(str(event["value"]))
            except ValueError:
                continue
            value = str(event["value"])
    return value


class ActionAskBookingConfirmed(Action):
    """Reads the request back before anything is stored."""

    def name(self) -> Text:
        return "action_ask_booking_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        if tracker.get_slot("booking_change") == "ask":
            dispatcher.utter_message(response="utter_ask_what_to_change")
            return [SlotSet("booking_change", None)]
        when = datetime.fromisoformat(tracker.get_slot("preferred_time"))
        dispatcher.utter_message(
            text=(
                "Please check your request:\n"
                f"Name: {tracker.get_slot('patient_name')}\n"
                f"Phone: {format_phone(tracker.get_slot('phone_number'))}\n"
                f"Time: {describe_time(when)}\n"
                f"Reason: {tracker.get_slot('visit_reason')}\n"
                "Is this right?"
            ),
            buttons=[
                {"title": "Yes, send it", "payload": "/affirm"},
                {"title": "No, change it", "payload": "/deny"},
            ],
        )
        return []


class ActionSubmitBookingForm(Action):
    def name(self) -> Text:
        return "action_submit_booking_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        from bot.db import record_appointment_request

        phone = tracker.get_slot("phone_number")
        content = {field: tracker.get_slot(field) for field in BOOKING_FIELDS}
        try:
            # A confirmation resent after the Rasa server refused to store its turn finds the
            # request its first attempt made: one request, the same reference, now of this turn
            # (staff see it once this turn is stored).
            record_appointment_request(
                idempotency_key=idempotency_key(tracker, self.name(), content),
                turn_timestamp=turn_timestamp(tracker),
                conversation_id=tracker.sender_id,
                patient_name=tracker.get_slot("patient_name"),
                phone_e164=phone,
                preferred_time=datetime.fromisoformat(tracker.get_slot("preferred_time")),
                reason=tracker.get_slot("visit_reason"),
                triage_level=tracker.get_slot("triage_level") or conversation_assessment(tracker).triage_level,
            )
        except Exception:  # noqa: BLE001 - nothing is lost: the person is told to call
            logger.exception("could not store the appointment request")
            dispatcher.utter_message(response="utter_booking_failed")
            return [SlotSet("booking_confirmed", None)]
        dispatcher.utter_message(response="utter_booking_saved", patient_phone_display=format_phone(phone))
        return [SlotSet(slot, None) for slot in BOOKING_SLOTS]


class ActionDeclineOffer(Action):
    def name(self) -> Text:
        return "action_decline_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("offered_booking", False)]
