"""Outside test of issue 8's last change, finding 3: "why?" after a turn refused in an outage.

An emergency message sent while the database was locked got the fail-safe notice ("could not be
saved, please send it again") and is not in the conversation. When the same person later asks
"why?", the stored conversation holds no finding, and the answer said "I haven't found any
warning signs in what you've told me so far", which the assistant cannot know. The answer must
be honest: it goes only by the saved messages, a message that could not be saved never reached it
(send the symptoms again), and it gives the emergency number and, since the refused message may
have been a self-harm disclosure, the crisis line.

The real action (action_explain_triage) on the conversation as stored after the outage, its
response rendered by the Rasa server's own response generator from the project's domain.yml.
"""

from __future__ import annotations

import asyncio

from rasa.shared.core.domain import Domain
from rasa_sdk.executor import CollectingDispatcher

from actions.triage import ActionExplainTriage
from bot.settings import clinic
from rasa_ext.nlg import ClinicResponseGenerator
from tests.action_helpers import domain, make_tracker
from tests.conftest import ROOT


def why_answer_after_a_refused_emergency() -> str:
    # Stored: "hello" and the later "why?"; the refused emergency turn between them is not.
    tracker = make_tracker(["hello", "why?"], intent="ask_why")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionExplainTriage().run(dispatcher, tracker, domain()))
    nlg = ClinicResponseGenerator(domain=Domain.load(str(ROOT / "domain.yml")))
    said = []
    for message in dispatcher.messages:
        if message.get("response"):
            rendered = nlg.generate_from_slots(message["response"], {}, "widget")
            said.append(rendered["text"])
        elif message.get("text"):
            said.append(message["text"])
    return "\n".join(said)


def test_why_after_a_refused_turn_never_claims_there_are_no_warning_signs():
    text = why_answer_after_a_refused_emergency()
    lowered = text.lower()
    assert "haven't found any warning signs" not in lowered
    assert "no warning signs" not in lowered
    assert "saved" in lowered and "send" in lowered  # what it goes by, and what to do
    assert clinic().emergency_number in text
    assert clinic().crisis_line in text
    assert "stop taking" not in lowered
