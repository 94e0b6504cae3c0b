"""Spanish messages through Rasa 3.6's own MessageProcessor.handle_message, with the project's seams
installed (rasa_ext.resilience, rasa_ext.turn), the project's domain.yml, NLG and EmergencyPolicy,
and the action server unreachable: session start, the language in the message's metadata, slot
extraction, the policy, the fail-safe actions and the rendered replies are all the real ones.
No trained model: the NLU parse is a fixed intent and, where EmergencyPolicy abstains, the next
action is the test's (the form while one is active, else the given reply), as the model would."""

from __future__ import annotations

import asyncio
import types
import uuid
from typing import List

import pytest
from rasa.core.actions.action import action_for_name_or_text
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.utils.endpoints import EndpointConfig

from bot.settings import clinic
from rasa_ext import resilience
from rasa_ext.channels.widget import WidgetOutput
from rasa_ext.nlg import ClinicResponseGenerator

SPANISH_EMERGENCY = (
    "Hola, tomo sertralina y me dieron tramadol ayer. Ahora estoy sudando muchísimo, tengo fiebre y las "
    "piernas se me mueven solas"
)
SPANISH_QUESTION = "hola, tengo una pregunta sobre mi cita"


@pytest.fixture
def processor(domain, policy):
    resilience.install()
    p = MessageProcessor.__new__(MessageProcessor)  # no model to load: parse and prediction below
    p.nlg = ClinicResponseGenerator(domain=domain)
    p.tracker_store = InMemoryTrackerStore(domain)
    p.lock_store = InMemoryLockStore()
    p.max_number_of_predictions = 10
    p.on_circuit_break = None
    p.action_endpoint = EndpointConfig("http://127.0.0.1:9/webhook")  # the action server is down
    p.domain = domain
    p.http_interpreter = None
    p.model_filename = "none.tar.gz"
    p.model_metadata = types.SimpleNamespace(training_type=None, assistant_id="test", domain=domain, model_id="none")
    p.script = {}

    async def parse_message(self, message, tracker=None, only_output_properties=True):
        intent = self.script["intent"]
        return {"text": message.text, "intent": {"name": intent, "confidence": 0.9}, "entities": [], "intent_ranking": []}

    def predict(self, tracker):
        prediction = policy.predict_action_probabilities(tracker, domain)
        if max(prediction.probabilities) > 0:
            name = domain.action_names_or_texts[prediction.max_confidence_index]
        elif tracker.latest_action_name != ACTION_LISTEN_NAME:
            name = ACTION_LISTEN_NAME
        else:
            name = tracker.active_loop_name or self.script["reply"]
        return (action_for_name_or_text(name, domain, self.action_endpoint),
                PolicyPrediction.for_action_name(domain, name, "test"))

    async def no_anonymization(self, tracker):
        return None

    p.parse_message = types.MethodType(parse_message, p)
    p.predict_next_with_tracker_if_should = types.MethodType(predict, p)
    p.run_anonymization_pipeline = types.MethodType(no_anonymization, p)
    return p


def say(processor, sender: str, text: str, intent: str = "greet", reply: str = "utter_greet") -> List[dict]:
    processor.script = {"intent": intent, "reply": reply}
    out = WidgetOutput()
    asyncio.run(processor.handle_message(UserMessage(text, out, sender)))
    return out.messages


def tracker(processor, sender: str):
    return asyncio.run(processor.tracker_store.retrieve(sender))


def texts(messages: List[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def emergency(messages: List[dict]) -> List[dict]:
    return [m for m in messages if (m.get("custom") or {}).get("emergency")]


def sender() -> str:
    return f"es-proc-{uuid.uuid4().hex[:8]}"


def test_a_spanish_first_message_with_an_emergency_and_the_action_server_down(processor):
    who = sender()
    reply = say(processor, who, SPANISH_EMERGENCY, intent="report_symptom")
    said = texts(reply)
    assert said.startswith("Hola, soy el asistente")  # the welcome, in Spanish, once
    assert said.count("no un médico") == 1 and "not a doctor" not in said
    found = emergency(reply)
    assert found and found[0]["text"].startswith("Esto puede ser una emergencia")
    assert found[0]["custom"]["call"] == clinic().emergency_number and clinic().crisis_line in found[0]["text"]
    assert (reply[-1].get("custom") or {}).get("failsafe") is True  # then the honest trouble notice
    assert reply[-1]["text"].startswith("El asistente tiene problemas") and clinic().phone in reply[-1]["text"]
    t = tracker(processor, who)
    assert t.get_slot("language") == "es" and t.get_slot("triage_level") == "emergency"
    assert [e.metadata.get("language") for e in t.events if e.type_name == "user"] == ["es"]


def test_a_spanish_question_then_english(processor):
    who = sender()
    reply = say(processor, who, SPANISH_QUESTION)
    assert not emergency(reply)
    said = texts(reply)
    assert "solo hablo inglés" in said and clinic().emergency_number in said and clinic().phone in said
    assert "Hello!" not in said  # the model's reply (utter_greet) is not given to it
    reply = say(processor, who, "hello")
    assert "Hello!" in texts(reply) and "inglés" not in texts(reply)
    assert tracker(processor, who).get_slot("language") == "en"
    for text in ("ok", "si", "sertralina", "Juan de Dios Batiz"):  # short, a medicine, a name: English
        reply = say(processor, who, text, intent="affirm")
        assert "Hello!" in texts(reply) and "inglés" not in texts(reply), (text, reply)
        assert tracker(processor, who).get_slot("language") == "en", text


def test_a_spanish_message_inside_the_booking_form_keeps_its_question(processor):
    who = sender()
    reply = say(processor, who, "i want to book an appointment", intent="book_appointment", reply="booking_form")
    assert "full name" in texts(reply)
    reply = say(processor, who, SPANISH_QUESTION, intent="inform")
    assert "solo hablo inglés" in texts(reply) and "phone number" not in texts(reply).lower()
    t = tracker(processor, who)
    assert t.active_loop_name == "booking_form" and t.get_slot("requested_slot") == "patient_name"
    assert t.get_slot("patient_name") is None
    reply = say(processor, who, "Jane Testperson", intent="inform")
    assert "phone number" in texts(reply).lower()
    assert tracker(processor, who).get_slot("patient_name") == "Jane Testperson"
