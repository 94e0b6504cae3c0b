"""Triage actions: run the red-flag engine on the conversation and tell the person what to do.

`action_triage` is predicted by EmergencyPolicy the moment an emergency appears (whatever the
conversation was doing, a form included) and by rules when someone reports medicines.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    conversation_assessment,
    decision_event,
    dispatch_assessment,
    slot_events,
)
from actions.forms_common import latest_text
from bot.triage import assess

logger = logging.getLogger(__name__)


class ActionTriage(Action):
    def name(self) -> Text:
        return "action_triage"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        assessment = conversation_assessment(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        level = assessment.triage_level
        events: List[EventType] = []

        english = (tracker.get_slot("language") or "en") == "en"  # set by the Rasa server (rasa_ext.turn)
        if level == "emergency" and not english:
            # The same decision, told in the message's language (domain.yml; Spanish for "es").
            dispatcher.utter_message(response="utter_emergency_not_english")
        elif level == "emergency":
            dispatch_assessment(dispatcher, assessment, say_medicines=False)
        elif not english:
            # Not an emergency: the assistant reads English for now, with the numbers (what
            # EmergencyPolicy predicts for such a message; here when a rule ran this action).
            urgent = level == "urgent" and not set(f.id for f in assessment.red_flags) <= set(
                tracker.get_slot("red_flags") or []
            )
            dispatcher.utter_message(response="utter_not_english_urgent" if urgent else "utter_not_english")
            return []
        elif intent == "emergency" and not assessment.medications and not assessment.unrecognised:
            # The classifier heard an emergency, the triage rules found none (issue 10: the intent
            # never decides alone): the number to call, without the alarm, and a question.
            dispatcher.utter_message(response="utter_emergency_check")
            return []
        else:
            if not assessment.medications and not assessment.unrecognised and not assessment.red_flags:
                dispatcher.utter_message(
                    text="I didn't catch a medicine name there. Could you type it the way it's written on the box or label?"
                )
                return []
            offered = dispatch_assessment(dispatcher, assessment)
            events.append(SlotSet("offered_booking", offered))

        if level == "emergency" and tracker.active_loop.get("name"):
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        events = slot_events(assessment, level) + events
        if level != tracker.get_slot("triage_level") or {f.id for f in assessment.red_flags} != set(
            tracker.get_slot("red_flags") or []
        ):
            # A new decision (not the same one told again): its record, stored with the turn.
            events.append(decision_event(tracker, assessment, level, purpose=self.name()))
        return events


class ActionExplainTriage(Action):
    """Answers "why?": the reasons behind the current level, one per rule that fired."""

    def name(self) -> Text:
        return "action_explain_triage"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        assessment = conversation_assessment(tracker)
        if not assessment.red_flags:
            dispatcher.utter_message(response="utter_no_triage_yet")
            return []
        lines = [f"- {flag.reason}" for flag in assessment.red_flags]
        dispatcher.utter_message(text="Here is why:\n" + "\n".join(lines))
        return slot_events(assessment)


class ActionUnclear(Action):
    """The NLU was unsure what the message is (nlu_fallback). A message that names a medicine (known or
    not) or raises a red flag is still checked, as action_triage does (issue 10: every reply type sees
    the medicines and red flags; "been on tizanadine a week for spasms, kinda dozy. normal?" got the
    menu and no check); anything else gets the menu (utter_default)."""

    def name(self) -> Text:
        return "action_unclear"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        text = latest_text(tracker)
        alone = assess([text]) if text else None
        if alone is not None and (alone.medications or alone.unrecognised or alone.red_flags):
            return await ActionTriage().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_default")
        return []
