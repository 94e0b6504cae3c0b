"""Dialogue policy that lets an emergency interrupt anything, an active form included.

After every user message it runs the triage engine over everything the person has said in the
conversation. When a rule of level `emergency` fires that has not been announced yet (its id is
not in the `red_flags` slot), or the person's message was classified as `emergency`, it predicts
`action_triage` with full confidence. The prediction is marked as not depending on user input so
that it outranks the form happy path of the RulePolicy (see `DefaultPolicyPredictionEnsemble`),
and its priority is above the RulePolicy's. Right after an emergency has been announced it
predicts `action_listen`, so that nothing (a form, a rule) talks over the emergency message.
Otherwise it abstains (all zeros), and the other policies decide.
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

from bot.settings import clinic
from bot.triage import assess, is_stated_emergency

logger = logging.getLogger(__name__)

TRIAGE_ACTION = "action_triage"


def user_texts(tracker: DialogueStateTracker) -> List[str]:
    """Everything the person wrote in this conversation, oldest first."""
    return [e.text for e in tracker.events if isinstance(e, UserUttered) and e.text]


def unannounced_emergencies(tracker: DialogueStateTracker) -> List[str]:
    """Ids of emergency-level rules that fired but are not in the `red_flags` slot yet."""
    texts = user_texts(tracker)
    if not texts:
        return []
    announced = set(tracker.get_slot("red_flags") or [])
    assessment = assess(texts)
    return [f.id for f in assessment.red_flags if f.level == "emergency" and f.id not in announced]


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
        if latest != ACTION_LISTEN_NAME or not isinstance(tracker.latest_message, UserUttered):
            return None
        if not tracker.latest_message.intent and not tracker.latest_message.text:
            return None
        intent = tracker.latest_message.intent or {}
        if is_stated_emergency(
            tracker.latest_message.text or "", intent.get("name"), intent.get("confidence"), clinic().emergency_number
        ):
            return TRIAGE_ACTION
        try:
            if unannounced_emergencies(tracker):
                return TRIAGE_ACTION
        except Exception:  # the engine must never take the conversation down
            logger.exception("triage engine failed inside EmergencyPolicy")
        return None
