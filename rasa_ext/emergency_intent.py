"""NLU component: the `emergency` intent is reconciled with the triage engine on every message (issue 10).

The intent classifier alone never decides in either direction. For each message, after the intent classifier
(MiniLMIntentClassifier), FallbackClassifier and WordlessInputClassifier, the engine reads the message on its own
(bot.triage.read_message) and:

- the engine finds an emergency (an emergency-level rule fired on this message: RF-STATED-EMERGENCY,
  RF-UNRESPONSIVE, RF-BREATHING, RF-SEIZURE, RF-SELF-HARM, RF-STROKE ...), or self-harm is said in any way
  but a denial (someone else's, in the past, asked about: a self-harm disclosure is never read down)
  -> the intent is `emergency`, whatever the classifier said; the classifier's ranking is kept as it was;
- the message is only a cry for help ("HELP", "help me!!", "sos", "someone please help"): the
  judgement call of issue 10, decided on the cautious side -> `emergency` whatever the classifier said.
  The engine finds no emergency in it, so `action_triage` answers `utter_emergency_check` (the number to
  call without the alarm, and "tell me in a few words what is happening"); the emergency reply and its
  flag come only from the engine's level (EmergencyPolicy, action_triage);
- the classifier says `emergency` and the engine finds a sign an emergency-level rule reads, said now
  (bot.triage.EMERGENCY_SIGN_FEATURES: "she fainted", "shes really confused") -> kept (classifier and
  engine agree on a sign; action_triage answers by the engine's level);
- the classifier says `emergency` and the engine finds none of that (a time, a date, a count, a phone
  number, gibberish, an education question, "at what point do i call 911", a visit reason) -> the
  intent becomes the next-best intent of the ranking without `emergency`, renormalised, with the
  FallbackClassifier's own test (threshold, ambiguity_threshold of this component's config, the same
  values as the FallbackClassifier's in config.yml): below it, `nlu_fallback`. Inside a form such a
  message is then an answer, not an interruption.
- otherwise the classifier's intent stands.

A `/intent` payload (a button) is left as it is. Which one decided is kept on the message (output
property `emergency_check`, stored with the user message's parse data: `decided_by`, the classifier's
intent, the engine's emergency rule ids and signs; feature names and rule ids only, never the text) and
logged at DEBUG without the text.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.triage import MessageReading, read_message

logger = logging.getLogger(__name__)

#: The message property that records the decision (in the parse data of the user message).
DECISION_KEY = "emergency_check"

ENGINE = "engine"  # the engine found an emergency (or self-harm) in the message
CRY_FOR_HELP = "cry_for_help"  # only a call for help: `emergency`, answered with the check, not the alarm
CLASSIFIER_AND_SIGN = "classifier_and_engine_sign"  # the classifier said emergency, the engine found a sign
ENGINE_OVERRULED = "engine_overruled_classifier"  # the classifier said emergency, the engine found nothing
CLASSIFIER = "classifier"  # neither the classifier nor the engine said emergency: the intent stands

#: A message that is only a call for help, in any case and punctuation ("HELP", "help me!!", "pls help",
#: "someone help us", "sos"); "i need help booking" or "help with my meds" say what the help is for.
_CRY_FOR_HELP = re.compile(
    r"^\W*(?:(?:please|pls|plz|plez|someone|somebody|anyone|anybody|i need|need|we need|i want|omg|oh god|god|"
    r"oh my god|quick|quickly|urgent|now|hey)\W+)*(?:he+l+p+|halp|sos|mayday)(?:\W+(?:me|us|him|her|them|please|pls|"
    r"plz|now|quick|quickly|asap|fast|someone|somebody|anyone|anybody|urgent|urgently|help))*\W*$",
    re.IGNORECASE,
)


def cry_for_help(text: str) -> bool:
    return bool(_CRY_FOR_HELP.match(text or ""))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyIntentReconciler(GraphComponent):
    """Makes the `emergency` intent agree with the triage engine (see the module docstring)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "emergency_intent": "emergency",
            # the FallbackClassifier's test for the next-best intent (keep equal to its config)
            "threshold": 0.4,
            "ambiguity_threshold": 0.1,
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.emergency = str(config.get("emergency_intent", "emergency"))
        self.threshold = float(config.get("threshold", 0.4))
        self.ambiguity = float(config.get("ambiguity_threshold", 0.1))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmergencyIntentReconciler":
        return cls({**cls.get_default_config(), **(config or {})})

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._reconcile(message)
        return messages

    def _reconcile(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        if not isinstance(text, str) or text.startswith("/"):
            return
        intent = message.get(INTENT) or {}
        said = intent.get(INTENT_NAME_KEY)
        reading = read_message(text)
        ranking = list(message.get(INTENT_RANKING_KEY) or [])
        if reading.emergency or reading.self_harm:
            decided_by = ENGINE
            self._set(message, {INTENT_NAME_KEY: self.emergency, PREDICTED_CONFIDENCE_KEY: 1.0}, ranking)
        elif cry_for_help(text):
            decided_by = CRY_FOR_HELP
            self._set(message, {INTENT_NAME_KEY: self.emergency, PREDICTED_CONFIDENCE_KEY: 1.0}, ranking)
        elif said == self.emergency and reading.signs:
            decided_by = CLASSIFIER_AND_SIGN
        elif said == self.emergency:
            decided_by = ENGINE_OVERRULED
            replacement = self._next_best(ranking)
            if replacement[INTENT_NAME_KEY] == DEFAULT_NLU_FALLBACK_INTENT_NAME:
                ranking = [replacement] + [r for r in ranking if r.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME]
            self._set(message, replacement, ranking)
        else:
            decided_by = CLASSIFIER
        message.set(DECISION_KEY, _record(decided_by, said, reading), add_to_output=True)
        logger.debug("emergency intent: %s (classifier %s, engine rules %s)", decided_by, said, list(reading.rule_ids))

    def _next_best(self, ranking: List[Dict[str, Any]]) -> Dict[str, Any]:
        """The classifier's best intent other than `emergency`, tested like the FallbackClassifier does,
        on the ranking renormalised without `emergency`; else `nlu_fallback`."""
        others = [
            r for r in ranking
            if r.get(INTENT_NAME_KEY) not in (self.emergency, DEFAULT_NLU_FALLBACK_INTENT_NAME, None)
        ]
        others.sort(key=lambda r: -float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0))
        mass = sum(float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) for r in others)
        if others and mass > 0:
            first = float(others[0].get(PREDICTED_CONFIDENCE_KEY) or 0.0) / mass
            second = float(others[1].get(PREDICTED_CONFIDENCE_KEY) or 0.0) / mass if len(others) > 1 else 0.0
            if first >= self.threshold and first - second >= self.ambiguity:
                return {INTENT_NAME_KEY: others[0][INTENT_NAME_KEY],
                        PREDICTED_CONFIDENCE_KEY: float(others[0].get(PREDICTED_CONFIDENCE_KEY) or 0.0)}
        return {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: self.threshold}

    @staticmethod
    def _set(message: Message, intent: Dict[str, Any], ranking: List[Dict[str, Any]]) -> None:
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)


def _record(decided_by: str, said: Optional[str], reading: MessageReading) -> Dict[str, Any]:
    return {
        "decided_by": decided_by,
        "classifier_intent": said,
        "engine_rules": list(reading.rule_ids),
        "engine_signs": sorted(reading.signs),
    }
