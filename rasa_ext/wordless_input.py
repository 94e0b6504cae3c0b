"""NLU component: a message without a single letter or digit (empty, emoji-only, punctuation-only)
is `nlu_fallback`, whatever the classifier made of it, so that it gets the menu (`utter_default`)
and never a dead end or a guessed intent."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

_WORD = re.compile(r"[^\W_]", re.UNICODE)


def has_words(text: str) -> bool:
    return bool(_WORD.search(text or ""))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class WordlessInputClassifier(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "WordlessInputClassifier":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or has_words(text):
                continue
            fallback = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.data[INTENT] = fallback
            message.data[INTENT_RANKING_KEY] = [fallback] + [
                r for r in message.data.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME
            ]
        return messages
