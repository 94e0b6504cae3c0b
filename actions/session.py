"""Session start: clinic details into slots, and the automated-not-a-doctor notice once."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.settings import clinic


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        events: List[EventType] = [SessionStarted()]
        # Carry the conversation's slots over (the level must never drop by itself).
        for key, value in tracker.current_slot_values().items():
            if value is not None and key != "requested_slot":
                events.append(SlotSet(key, value))
        events += [SlotSet(key, value) for key, value in clinic().as_slots().items()]
        if not tracker.get_slot("disclaimer_given"):
            dispatcher.utter_message(response="utter_welcome", **clinic().as_slots())
            events.append(SlotSet("disclaimer_given", True))
        events.append(ActionExecuted("action_listen"))
        return events
