"""NLU component that fills the `medication` entity from the triage engine's own recogniser.

Using the recogniser of `bot.medications` (spaCy rules over the medicine knowledge base) rather
than a learned extractor means that what the NLU reports and what the triage engine acts on can
never disagree, and that a new brand or street name needs a knowledge-file edit, not a retrain.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_ROLE,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.medications import recognise

ENTITY_NAME = "medication"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class MedicationEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds one `medication` entity per medicine the knowledge base recognises.

    The entity's value is the canonical lowercase generic name ("Zoloft", "zolof" -> "sertraline");
    its role is the status the recogniser found ("current" or "past").
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "MedicationEntityExtractor":
        # Build the recogniser's spaCy pipeline and lookup tables now (a few seconds), so the
        # first person to write is not the one who waits for it.
        recognise("warm up baclofen")
        return cls(config)

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Nothing to learn: the knowledge base is the source of truth.
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            found = [
                {
                    ENTITY_ATTRIBUTE_TYPE: ENTITY_NAME,
                    ENTITY_ATTRIBUTE_VALUE: mention.name,
                    ENTITY_ATTRIBUTE_START: mention.start,
                    ENTITY_ATTRIBUTE_END: mention.end,
                    ENTITY_ATTRIBUTE_ROLE: mention.status,
                    "confidence_entity": 1.0,
                }
                for mention in recognise(text)
            ]
            if not found:
                continue
            entities = message.get(ENTITIES, []) + self.add_extractor_name(found)
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
