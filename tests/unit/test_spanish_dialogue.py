"""Issue 10, "Other languages": a message that is not English is recognised by the Rasa server and
answered safely in its language (Spanish): the emergency check still runs on it and raises the
emergency reply in Spanish (911, 988), anything else gets "English for now" with the emergency and
clinic numbers, and an active form keeps its question. English chat, names and medicine names stay
English. Real Rasa trackers, the project's domain.yml and the Rasa server's own response generator
and fail-safe action; no trained model."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME, SESSION_START_METADATA_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from actions.triage import ActionTriage
from bot.settings import clinic
from bot.triage import assess
from rasa_ext import turn
from rasa_ext.nlg import ClinicResponseGenerator
from rasa_ext.resilience import FailsafeRemoteAction
from tests.action_helpers import make_tracker, responses, run

# `domain` and `policy` are fixtures of tests/unit/conftest.py.

SPANISH_EMERGENCY = (
    "Hola, tomo sertralina y me dieron tramadol ayer. Ahora estoy sudando muchísimo, tengo fiebre y las "
    "piernas se me mueven solas"
)
SPANISH_QUESTION = "hola, tengo una pregunta sobre mi cita"
SPANISH_URGENT = "tomo dantrium y se me pusieron los ojos amarillos"


class Conversation:
    """A tracker fed the way the Rasa server feeds it: the message with the language the server
    recorded in its metadata (rasa_ext.turn._record_language), then the turn's slots."""

    def __init__(self, domain: Domain, loop: str | None = None) -> None:
        self.domain = domain
        self.tracker = DialogueStateTracker.from_events(
            f"es-{uuid.uuid4().hex[:8]}", [ActionExecuted(ACTION_LISTEN_NAME)], slots=domain.slots
        )
        if loop:
            for e in (ActionExecuted(loop), ActiveLoop(loop), SlotSet("requested_slot", "phone_number"),
                      ActionExecuted(ACTION_LISTEN_NAME)):
                self.tracker.update(e, domain)

    def say(self, text: str, intent: str = "greet") -> dict:
        message = UserMessage(text, sender_id=self.tracker.sender_id)
        turn._record_language(message)
        self.tracker.update(UserUttered(text, {"name": intent, "confidence": 0.9}, metadata=message.metadata), self.domain)
        value = turn.compute(self.tracker)
        self.tracker.update(SlotSet(turn.SLOT, value), self.domain)
        self.tracker.update(SlotSet(turn.LANGUAGE_SLOT, turn.language(self.tracker)), self.domain)
        return value

    def bot(self, *events) -> None:
        for e in events:
            self.tracker.update(e, self.domain)


def predicted(policy, tracker, domain):
    p = policy.predict_action_probabilities(tracker, domain)
    if max(p.probabilities) == 0:
        return None, p
    return domain.action_names_or_texts[p.max_confidence_index], p


def render(domain, name, tracker):
    return asyncio.run(ClinicResponseGenerator(domain=domain).generate(name, tracker, "collector"))


# ------------------------------------------------------------------------------ the language, once


def test_the_server_records_the_language_in_the_message_metadata():
    message = UserMessage(SPANISH_QUESTION, sender_id="x", metadata={"button": None})
    turn._record_language(message)
    assert message.metadata["language"] == "es"
    message = UserMessage("hello there", sender_id="x", metadata={"language": "es"})
    turn._record_language(message)
    assert message.metadata["language"] == "en"  # decided by the server, never by the caller
    for text in ("/greet", "ok", "si", "sertralina", "Maria Gonzalez", "tuesday 9:30"):
        message = UserMessage(text, sender_id="x")
        turn._record_language(message)
        assert message.metadata == {"language": "en"}, text


def test_a_typed_button_title_is_english():
    assert turn.text_language("Hable con la clínica", {"button": "/request_human"}) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "María José Gutiérrez Sánchez", "Juan de Dios Batiz", "Ana Sofia Villanueva Torres",
        "Agnieszka Wojciechowska", "Krzysztof Brzęczyszczykiewicz",
    ],
)
def test_names_do_not_flip_the_language(text):
    """(Short chat, "ok", "si" and medicine names: tests/unit/test_language.py.)"""
    from bot.language import detect

    assert detect(text) == "en"


# ------------------------------------------------------------------------------ the policy


def test_the_outside_testers_spanish_emergency_gets_the_emergency_reply(policy, domain):
    c = Conversation(domain)
    value = c.say(SPANISH_EMERGENCY)
    assert value["triage_level"] == "emergency"
    assert c.tracker.get_slot("language") == "es"
    action, prediction = predicted(policy, c.tracker, domain)
    assert action == "action_triage" and prediction.is_no_user_prediction


@pytest.mark.parametrize(
    "text", ["mi esposa no responde", "necesito una ambulancia", "quiero morirme", "mi hijo tiene convulsiones"]
)
def test_short_spanish_emergencies_are_read_by_the_engine(policy, domain, text):
    assert assess([text]).triage_level == "emergency"
    c = Conversation(domain)
    c.say(text)
    assert predicted(policy, c.tracker, domain)[0] == "action_triage"


@pytest.mark.parametrize("text", ["no respira", "no despierta", "se esta ahogando"])
def test_two_or_three_spanish_words_that_state_an_emergency_still_raise_it(policy, domain, text):
    """Too short to be called Spanish (answered in English), but the emergency check reads them."""
    c = Conversation(domain)
    value = c.say(text)
    assert value["triage_level"] == "emergency" and value["stated_emergency"] is True
    assert predicted(policy, c.tracker, domain)[0] == "action_triage"
    assert assess(["socorro"]).triage_level != "emergency"  # a lone cry for help, like a lone "HELP"


def test_a_spanish_question_gets_english_for_now_then_the_assistant_listens(policy, domain):
    c = Conversation(domain)
    c.say(SPANISH_QUESTION)
    assert predicted(policy, c.tracker, domain)[0] == turn.NOT_ENGLISH_RESPONSE
    c.bot(ActionExecuted(turn.NOT_ENGLISH_RESPONSE))
    assert predicted(policy, c.tracker, domain)[0] == ACTION_LISTEN_NAME


def test_inside_a_form_the_spanish_reply_outranks_the_form_and_keeps_it(policy, domain):
    c = Conversation(domain, loop="booking_form")
    c.say(SPANISH_QUESTION, intent="book_appointment")
    action, prediction = predicted(policy, c.tracker, domain)
    assert action == turn.NOT_ENGLISH_RESPONSE
    assert prediction.is_no_user_prediction and prediction.policy_priority > 6  # beats the form's rule
    c.bot(ActionExecuted(turn.NOT_ENGLISH_RESPONSE))
    assert predicted(policy, c.tracker, domain)[0] == ACTION_LISTEN_NAME
    assert c.tracker.active_loop_name == "booking_form"
    assert c.tracker.get_slot("requested_slot") == "phone_number"


def test_an_urgent_spanish_finding_says_today(policy, domain):
    c = Conversation(domain)
    value = c.say(SPANISH_URGENT)
    assert value["triage_level"] == "urgent", value["red_flags"]
    assert predicted(policy, c.tracker, domain)[0] == turn.NOT_ENGLISH_URGENT_RESPONSE


@pytest.mark.parametrize("text", ["ok", "si", "sertralina", "Juan de Dios Batiz", "hello", "tuesday 9:30"])
def test_english_and_unclear_messages_are_not_answered_as_another_language(policy, domain, text):
    c = Conversation(domain, loop="booking_form")
    c.say(text, intent="affirm")
    assert c.tracker.get_slot("language") == "en"
    assert predicted(policy, c.tracker, domain)[0] is None


def test_the_crisis_reply_is_in_spanish(policy, domain):
    c = Conversation(domain)
    c.say("quiero morirme")
    flags = [f["id"] for f in c.tracker.get_slot(turn.SLOT)["red_flags"]]
    c.bot(ActionExecuted("action_triage"), SlotSet("red_flags", flags), SlotSet("triage_level", "emergency"),
          ActionExecuted(ACTION_LISTEN_NAME))
    c.say("no se que hacer, estoy muy sola")
    assert predicted(policy, c.tracker, domain)[0] == turn.CRISIS_RESPONSE
    out = render(domain, turn.CRISIS_RESPONSE, c.tracker)
    assert "Llame" in out["text"] and clinic().crisis_line in out["text"] and clinic().emergency_number in out["text"]
    assert out["custom"]["crisis"] is True and not out.get("buttons")


# ------------------------------------------------------------------------------ the texts


def test_english_for_now_in_spanish_has_the_numbers(domain):
    c = Conversation(domain)
    c.say(SPANISH_QUESTION)
    text = render(domain, turn.NOT_ENGLISH_RESPONSE, c.tracker)["text"]
    assert "solo hablo inglés" in text
    assert clinic().emergency_number in text and clinic().phone in text
    assert len(text) <= 320  # one SMS page


def test_other_languages_get_english_for_now_in_english(domain):
    c = Conversation(domain)
    c.say("Dzień dobry, potrzebuję pomocy lekarza")
    assert c.tracker.get_slot("language") == "pl"
    text = render(domain, turn.NOT_ENGLISH_RESPONSE, c.tracker)["text"]
    assert "only read English" in text and clinic().emergency_number in text and clinic().phone in text


def test_the_spanish_emergency_reply_is_an_emergency_message_with_911_and_988(domain):
    c = Conversation(domain)
    c.say(SPANISH_EMERGENCY)
    out = render(domain, turn.EMERGENCY_NOT_ENGLISH_RESPONSE, c.tracker)
    assert out["text"].startswith("Esto puede ser una emergencia")
    assert clinic().emergency_number in out["text"] and clinic().crisis_line in out["text"]
    custom = out["custom"]
    assert custom["emergency"] is True and custom["call"] == clinic().emergency_number
    assert custom["tel"] == f"tel:{clinic().emergency_number}" and custom["text"] == out["text"]
    assert "condition" not in out  # the chosen variation's condition is no part of the message
    assert len(out["text"]) <= 320


def test_the_welcome_before_a_spanish_first_message_is_spanish(domain):
    """Session start runs before the message is on the tracker: the language comes with the
    session's metadata (the message's, recorded by the server before the session starts)."""
    tracker = DialogueStateTracker.from_events(
        "es-new", [SlotSet(SESSION_START_METADATA_SLOT, {"language": "es"})], slots=domain.slots
    )
    text = render(domain, "utter_welcome", tracker)["text"]
    assert "no un médico" in text and clinic().emergency_number in text
    english = DialogueStateTracker.from_events(
        "en-new", [SlotSet(SESSION_START_METADATA_SLOT, {"language": "en"})], slots=domain.slots
    )
    assert "not a doctor" in render(domain, "utter_welcome", english)["text"]


def test_a_later_english_message_is_answered_in_english(domain):
    c = Conversation(domain)
    c.say(SPANISH_QUESTION)
    c.bot(ActionExecuted(turn.NOT_ENGLISH_RESPONSE), ActionExecuted(ACTION_LISTEN_NAME))
    c.say("sorry, what does clonus mean")
    assert c.tracker.get_slot("language") == "en"
    assert "not a doctor" in render(domain, "utter_welcome", c.tracker)["text"]


# ------------------------------------------------------------------------------ action and fail-safe


def test_action_triage_gives_the_spanish_emergency_reply():
    tracker = make_tracker([SPANISH_EMERGENCY], slots={"language": "es"})
    dispatcher, events = run(ActionTriage(), tracker)
    assert responses(dispatcher) == ["utter_emergency_not_english"]
    assert not any(m.get("text") for m in dispatcher.messages)  # no English text beside it
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert slots["triage_level"] == "emergency" and "SS-HUNTER" in slots["red_flags"]
    # The same conversation in English keeps the English emergency text.
    english = make_tracker([SPANISH_EMERGENCY.replace("Hola", "Hi")], slots={"language": "en"})
    dispatcher, _ = run(ActionTriage(), english)
    assert not responses(dispatcher) and "Call" in dispatcher.messages[0]["text"]


def test_action_triage_on_a_spanish_message_without_emergency_says_english_for_now():
    dispatcher, events = run(ActionTriage(), make_tracker([SPANISH_QUESTION], slots={"language": "es"}))
    assert responses(dispatcher) == ["utter_not_english"] and events == []


def test_with_the_action_server_down_the_spanish_emergency_is_told_in_spanish(domain):
    c = Conversation(domain)
    c.say(SPANISH_EMERGENCY)
    action = FailsafeRemoteAction("action_triage", EndpointConfig("http://127.0.0.1:9/webhook"))  # nobody listens
    events = asyncio.run(action.run(CollectingOutputChannel(), ClinicResponseGenerator(domain=domain), c.tracker, domain))
    said = [e for e in events if isinstance(e, BotUttered)]
    assert said[0].text.startswith("Esto puede ser una emergencia")
    assert said[0].data["custom"]["emergency"] is True and said[0].data["custom"]["call"] == clinic().emergency_number
    assert said[-1].data["custom"]["failsafe"] is True  # then the trouble notice with the numbers, in Spanish
    assert said[-1].text.startswith("El asistente tiene problemas")
    assert clinic().emergency_number in said[-1].text and clinic().phone in said[-1].text
    assert SlotSet("triage_level", "emergency") in events
    # In English the fail-safe's emergency message is the engine's, as before.
    c = Conversation(domain)
    c.say("I take Nardil and the doctor gave me Demerol, now I have a fever and my legs keep jerking")
    events = asyncio.run(action.run(CollectingOutputChannel(), ClinicResponseGenerator(domain=domain), c.tracker, domain))
    assert [e for e in events if isinstance(e, BotUttered)][0].text.startswith("This could be an emergency")


def test_a_message_that_is_not_english_fills_no_slot(domain):
    """The seam does not run action_extract_slots for it: an active form's question stays open."""
    from rasa.core.processor import MessageProcessor

    turn.install()
    c = Conversation(domain, loop="booking_form")
    c.say("mi numero es tres uno dos cinco cinco cinco", intent="inform")
    before = list(c.tracker.events)
    result = asyncio.run(MessageProcessor.run_action_extract_slots(object(), CollectingOutputChannel(), c.tracker))
    assert result is c.tracker and list(c.tracker.events) == before
