"""Issue 8 item 4: no response ever shows an unfilled value ("call None", "{slot}").

The responses of domain.yml, rendered the way the Rasa server renders them (endpoints.yml's NLG)
for a conversation whose slots the action server never filled (it was down at session start)."""

from __future__ import annotations

import asyncio

import pytest
import yaml
from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.settings import clinic
from tests.e2e.stack import ROOT

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def generator() -> NaturalLanguageGenerator:
    nlg = yaml.safe_load((ROOT / "endpoints.yml").read_text()).get("nlg")
    return NaturalLanguageGenerator.create(EndpointConfig.from_dict(nlg) if nlg else None, DOMAIN)


@pytest.mark.parametrize("response", sorted(DOMAIN.responses))
def test_no_response_shows_an_unfilled_value(response):
    tracker = DialogueStateTracker("nobody", DOMAIN.slots)  # every slot empty
    rendered = asyncio.run(generator().generate(response, tracker, "rest"))
    text = (rendered or {}).get("text") or ""
    assert "None" not in text and "{" not in text, (response, text)


def test_clinic_values_come_from_the_profile():
    tracker = DialogueStateTracker("nobody", DOMAIN.slots)
    rendered = asyncio.run(generator().generate("utter_request_human", tracker, "rest"))
    assert clinic().phone in rendered["text"] and clinic().emergency_number in rendered["text"]
