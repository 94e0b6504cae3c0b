"""Booking form: validated answers, a read-back, and the request stored for the clinic."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import conversation_assessment
from actions.forms_common import typed_answer
from bot.booking import (
    describe_time,
    format_phone,
    looks_like_name,
    normalise_phone,
    parse_name,
    parse_preferred_time,
)
from bot.settings import clinic

logger = logging.getLogger(__name__)

BOOKING_SLOTS = ("patient_name", "phone_number", "preferred_time", "visit_reason", "booking_confirmed")
def _number_like(text: str) -> bool:
    return normalise_phone(text) is not None or bool(re.fullmatch(r"[\d\s()+.\-]*\d[\d\s()+.\-]*", text))


TIME_PROBLEMS = {
    "unparsed": "Sorry, I couldn't tell which day and time you mean.",
    "past": "That time has already passed.",
    "closed_day": "We're closed that day.",
    "closed_time": "We're closed at that time.",
}


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
        answer = typed_answer(tracker, "patient_name", fits=looks_like_name, always_if_fits=True)
        return {"patient_name": answer} if answer else {}

    async def extract_phone_number(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        # Anything number-like is an attempt at a phone number: validation answers a wrong one.
        answer = typed_answer(tracker, "phone_number", fits=_number_like, always_if_fits=True)
        return {"phone_number": answer} if answer else {}

    async def extract_preferred_time(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        answer = typed_answer(
            tracker, "preferred_time", fits=lambda t: parse_preferred_time(t, clinic()).problem != "unparsed", always_if_fits=True
        )
        return {"preferred_time": answer} if answer else {}

    async def extract_visit_reason(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        answer = typed_answer(tracker, "visit_reason")
        return {"visit_reason": answer} if answer else {}

    async def validate_patient_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        name = parse_name(str(value or ""))
        if not name:
            dispatcher.utter_message(response="utter_wrong_patient_name")
        return {"patient_name": name}

    async def validate_phone_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        phone = normalise_phone(str(value or ""))
        if not phone:
            dispatcher.utter_message(response="utter_wrong_phone_number")
        return {"phone_number": phone}

    async def validate_preferred_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = str(value or "")
        try:  # already validated (an ISO timestamp carried over from an earlier attempt)
            datetime.fromisoformat(text)
            return {"preferred_time": text}
        except ValueError:
            pass
        parsed = parse_preferred_time(text, clinic())
        if parsed.problem or parsed.when is None:
            dispatcher.utter_message(
                response="utter_wrong_preferred_time",
                problem=TIME_PROBLEMS.get(parsed.problem or "unparsed"),
                clinic_hours=clinic().hours_text(),
            )
            return {"preferred_time": None}
        return {"preferred_time": parsed.when.isoformat()}

    async def validate_visit_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        reason = str(value or "").strip()
        if len(reason) < 2 or reason.startswith("/"):
            dispatcher.utter_message(response="utter_wrong_visit_reason")
            return {"visit_reason": None}
        return {"visit_reason": reason[:500]}

    async def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is True:
            return {"booking_confirmed": True}
        dispatcher.utter_message(response="utter_booking_restart")
        return {slot: None for slot in BOOKING_SLOTS}


class ActionAskBookingConfirmed(Action):
    """Reads the request back before anything is stored."""

    def name(self) -> Text:
        return "action_ask_booking_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
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
        try:
            record_appointment_request(
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
