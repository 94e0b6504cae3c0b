"""Rasa's templated responses, with the clinic's details filled in by the Rasa server itself.

The domain's responses interpolate `{clinic_phone}`, `{emergency_number}`... Those slots used to
be filled only by the action server at session start, so with it down a response said "call None".
This generator (endpoints.yml, `nlg: type: rasa_ext.nlg.ClinicResponseGenerator`) always takes
those values from the clinic profile, and guards every rendered response: a text that would show
an unfilled value ("None", a "{slot}" left over) is replaced by the honest trouble notice with the
numbers (rasa_ext.failsafe).

Language: `generate` conditions responses on the `language` of the message being answered
(rasa_ext.turn.reply_language: the latest user message's, or at a session start the one the new
message brought), so the Spanish variations of domain.yml (`condition: language == es`) are chosen
even for the welcome that precedes the message. A response whose `custom` says `emergency: true`
gets the full emergency payload (rasa_ext.failsafe.emergency_custom: the number to call, `tel:`,
its own text), the same as every other emergency message.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any, Dict, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.settings import clinic
from rasa_ext.failsafe import emergency_custom, trouble_text

logger = logging.getLogger(__name__)

PLACEHOLDER = re.compile(r"\{([^\n{}]+?)\}")


def unfilled_placeholders(template: str, values: Dict[str, Any]) -> list:
    """Names in `template` ("{name}") that `values` cannot fill with a real value."""
    return [name for name in PLACEHOLDER.findall(template or "") if values.get(name) in (None, "", [], "None")]


def shows_unfilled_value(text: Optional[str]) -> bool:
    """A rendered text that still has a "{slot}" in it."""
    return bool(text) and bool(PLACEHOLDER.search(text))


class ClinicResponseGenerator(TemplatedNaturalLanguageGenerator):
    """TemplatedNaturalLanguageGenerator with clinic values from the profile and a placeholder guard."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None) -> None:
        super().__init__(domain.responses if domain else {})

    def generate_from_slots(
        self,
        utter_action: Text,
        filled_slots: Dict[Text, Any],
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        values = dict(filled_slots or {})
        values.update(clinic().as_slots())  # the profile is the truth, whatever the slots say
        values.update({k: v for k, v in kwargs.items() if v is not None})
        template = self._random_response_for(utter_action, output_channel, values)
        if template is None:
            return None
        missing = unfilled_placeholders(template.get("text") or "", values)
        if missing:
            # Never show "None" or "{slot}": say honestly that something went wrong, with the numbers.
            logger.error("response %s has unfilled values %s; sent the trouble notice instead", utter_action, missing)
            return {"text": trouble_text(), "custom": {"failsafe": True}}
        response = self._fill_response(copy.deepcopy(template), values)
        response.pop("condition", None)  # which variation was chosen is no part of the message
        if shows_unfilled_value(response.get("text")):
            logger.error("response %s rendered with a placeholder left; sent the trouble notice instead", utter_action)
            return {"text": trouble_text(), "custom": {"failsafe": True}}
        custom = response.get("custom")
        if isinstance(custom, dict) and custom.get("emergency") is True:
            response["custom"] = {**custom, **emergency_custom(response.get("text") or "")}
        return response

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        from rasa_ext.turn import LANGUAGE_SLOT, reply_language

        slots = dict(tracker.current_slot_values())
        slots[LANGUAGE_SLOT] = reply_language(tracker)
        return self.generate_from_slots(utter_action, slots, output_channel, **kwargs)
