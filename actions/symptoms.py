"""Symptom intake: a form of short questions, then the triage outcome."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    conversation_assessment,
    current_medication_names,
    decision_event,
    dispatch_assessment,
    slot_events,
)
from actions.forms_common import first_answers, latest_text, session_user_texts, typed_answer
from bot.booking import asks_to_book
from bot.intake import INTAKE_SLOTS, answers

SYMPTOM_SLOTS = (
    "symptom_description",
    "symptom_duration",
    "symptom_side",
    "symptom_trigger",
    "other_symptoms",
    "current_medicines",
)
_MAX_ANSWER = 1000


def answered_before(texts: List[str]) -> Dict[str, str]:
    """The intake questions these messages already answer (a later message wins)."""
    found: Dict[str, str] = {}
    for text in texts:
        found.update(answers(text))
    return {slot: value[:_MAX_ANSWER] for slot, value in found.items()}


class ActionStartSymptomIntake(Action):
    """Clears the previous intake, keeps the message that started this one as the description, and
    fills in what the person has already told us (beats, side, trigger, other symptoms, medicines),
    so that only the rest is asked."""

    def name(self) -> Text:
        return "action_start_symptom_intake"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        events: List[EventType] = [SlotSet(slot, None) for slot in SYMPTOM_SLOTS]
        dispatcher.utter_message(response="utter_start_symptom_intake")
        text = latest_text(tracker)
        # A button choice ("/report_symptom", or its title typed) carries no description; a typed message does.
        if text and len(text.split()) >= 3:
            events.append(SlotSet("symptom_description", text[:_MAX_ANSWER]))
        events += [SlotSet(slot, value) for slot, value in answered_before(session_user_texts(tracker)).items()]
        return events


class ActionAskCurrentMedicines(Action):
    """Asks about medicines, naming those already mentioned so the person only adds the rest."""

    def name(self) -> Text:
        return "action_ask_current_medicines"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        known = current_medication_names(conversation_assessment(tracker))
        if known:
            dispatcher.utter_message(
                text=f"You mentioned {', '.join(known)}. Do you take any other medicines, supplements or "
                "recreational drugs, or changed any dose recently? (say \"no\" if not)"
            )
        else:
            dispatcher.utter_message(response="utter_ask_current_medicines")
        return []


class ValidateSymptomForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_symptom_form"

    @staticmethod
    def _clean(value: Any) -> Optional[str]:
        text = str(value or "").strip()
        return text[:_MAX_ANSWER] if text else None

    async def _answer(self, slot: str, tracker: Tracker) -> Dict[Text, Any]:
        answer = typed_answer(tracker, slot, plain_answers=True)
        if answer:
            return {slot: answer[:_MAX_ANSWER]}
        if slot in INTAKE_SLOTS and tracker.get_slot("requested_slot") != slot:
            # Said in passing while answering another question ("few seconds, and it's random").
            return first_answers(answers(latest_text(tracker)), tracker, [slot])
        return {}

    async def extract_symptom_description(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return await self._answer("symptom_description", tracker)

    async def extract_symptom_duration(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return await self._answer("symptom_duration", tracker)

    async def extract_symptom_side(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return await self._answer("symptom_side", tracker)

    async def extract_symptom_trigger(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return await self._answer("symptom_trigger", tracker)

    async def extract_other_symptoms(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return await self._answer("other_symptoms", tracker)

    async def extract_current_medicines(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return await self._answer("current_medicines", tracker)

    async def validate_symptom_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"symptom_description": self._clean(value)}

    async def validate_symptom_duration(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"symptom_duration": self._clean(value)}

    async def validate_symptom_side(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"symptom_side": self._clean(value)}

    async def validate_symptom_trigger(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"symptom_trigger": self._clean(value)}

    async def validate_other_symptoms(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"other_symptoms": self._clean(value)}

    async def validate_current_medicines(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"current_medicines": self._clean(value)}


class ActionSubmitSymptomForm(Action):
    """Settles the level once the intake is complete, says back the medicines, and routes."""

    def name(self) -> Text:
        return "action_submit_symptom_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        assessment = conversation_assessment(tracker)
        # The message that started the intake asked for a visit as well ("can I set up a visit, my
        # hand jerks..."): after the outcome, the booking form, not an offer to book.
        book_now = assessment.triage_level in ("routine", "self_care") and asks_to_book(intake_opening(tracker))
        offered = dispatch_assessment(dispatcher, assessment, offer_booking=not book_now)
        decision = decision_event(tracker, assessment, purpose=self.name())
        events = slot_events(assessment) + [SlotSet("offered_booking", offered), decision]
        if book_now:
            dispatcher.utter_message(response="utter_booking_as_asked")
            events.append(FollowupAction("booking_form"))
        return events


def intake_opening(tracker: Tracker) -> str:
    """What the person typed just before this symptom intake started ("" for a button choice)."""
    last_user: Optional[Dict[str, Any]] = None
    opening: Optional[Dict[str, Any]] = None
    for event in tracker.events:
        if event.get("event") == "user":
            last_user = event
        elif event.get("event") == "action" and event.get("name") == "action_start_symptom_intake":
            opening = last_user
    if not opening or (opening.get("text") or "").startswith("/"):
        return ""
    return opening.get("text") or ""
