"""Dialogue policy that lets an emergency interrupt anything, an active form included.

It reads the turn's assessment (the `assessment` slot, set by the Rasa server right after the
message is parsed, rasa_ext.turn; it does not run the engine itself) and, after a user message:
- predicts `action_triage` with full confidence when an emergency-level rule fired that has not been
  announced yet (its id is not in the `red_flags` slot), or when the message itself states an
  emergency (bot.triage.Assessor.latest_states_emergency: asked for an ambulance or 911, someone
  unresponsive or not breathing ...). The NLU intent `emergency` decides nothing here, in either
  direction;
- in crisis mode (RF-SELF-HARM fired earlier in the conversation) predicts `utter_crisis_support`
  (988 and 911, no buttons) instead of any other reply, so no form or menu starts again;
- inside an active form, predicts `action_triage` for an urgent finding not announced yet, so that
  it is told before the form's next question (outside forms rasa_ext.turn tells it after the reply);
- for a message that is not English (rasa_ext.turn.language) and states no emergency, predicts
  `utter_not_english` (the assistant reads English for now, with the emergency and clinic numbers;
  in Spanish for Spanish) or `utter_not_english_urgent` for an urgent finding not announced yet,
  then `action_listen`: an active form stays as it was, its question unanswered. (An emergency in
  such a message still gets `action_triage`, which answers in the message's language.)
The prediction is marked as not depending on user input so that it outranks the form happy path of
the RulePolicy (see `DefaultPolicyPredictionEnsemble`), and its priority is above the RulePolicy's.
Right after an emergency has been announced, or the crisis reply given, it predicts `action_listen`,
so that nothing (a form, a rule) talks over it. Otherwise it abstains (all zeros).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_ext import turn

logger = logging.getLogger(__name__)

TRIAGE_ACTION = "action_triage"


def user_texts(tracker: DialogueStateTracker) -> List[str]:
    """Everything the person wrote in this conversation, oldest first."""
    return turn.user_texts(tracker)


def unannounced_emergencies(tracker: DialogueStateTracker) -> List[str]:
    """Ids of emergency-level rules that fired but are not in the `red_flags` slot yet."""
    return turn.unannounced(turn.current(tracker), tracker)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class EmergencyPolicy(Policy):
    """Predicts `action_triage` the moment an emergency appears in the conversation."""

    @staticmethod
    def supported_data() -> SupportedData:
        return SupportedData.ML_DATA

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7}

    def train(
        self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        # Nothing to learn: the triage rules are the clinical policy, not a statistical model.
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        action = self._decide(tracker)
        probabilities = self._default_predictions(domain)
        if action is None:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, is_no_user_prediction=True)

    def _decide(self, tracker: DialogueStateTracker) -> Optional[str]:
        latest = tracker.latest_action_name
        if latest == TRIAGE_ACTION and tracker.get_slot("triage_level") == "emergency":
            return ACTION_LISTEN_NAME
        if latest in (turn.CRISIS_RESPONSE, turn.NOT_ENGLISH_RESPONSE, turn.NOT_ENGLISH_URGENT_RESPONSE):
            return ACTION_LISTEN_NAME
        if latest != ACTION_LISTEN_NAME or not isinstance(tracker.latest_message, UserUttered):
            return None
        if not tracker.latest_message.intent and not tracker.latest_message.text:
            return None
        value = turn.current(tracker)
        if value is None:  # the engine failed: the fail-safe path and the other policies answer
            return turn.NOT_ENGLISH_RESPONSE if turn.language(tracker) != turn.ENGLISH else None
        if value.get("stated_emergency") or turn.unannounced(value, tracker):
            return TRIAGE_ACTION
        if value.get("crisis"):
            return turn.CRISIS_RESPONSE
        if turn.language(tracker) != turn.ENGLISH:
            return turn.not_english_response(value, tracker)
        if tracker.active_loop_name and turn.unannounced(value, tracker, ("urgent",)):
            return TRIAGE_ACTION
        return None
