"""Issue 10, "Other languages", through the real Rasa server and action server: a Spanish emergency
gets the emergency reply in Spanish with 911 (also with the action server stopped), a Spanish
message without an emergency gets "English for now" with the emergency and clinic numbers, the
conversation goes on, and an active form keeps its question."""

from __future__ import annotations

import uuid
from typing import List

import pytest

from bot.settings import clinic
from tests.e2e.stack import texts
from tests.security.server_helpers import talk

pytestmark = pytest.mark.e2e

# The outside testers' message (issue 10), answered "it is not urgent" in English before.
SPANISH_EMERGENCY = (
    "Hola, tomo sertralina y me dieron tramadol ayer. Ahora estoy sudando muchísimo, tengo fiebre y las "
    "piernas se me mueven solas"
)
SPANISH_QUESTION = "hola, tengo una pregunta sobre mi cita"


def sender(kind: str) -> str:
    return f"e2e-es-{kind}-{uuid.uuid4().hex[:8]}"


def emergency_messages(messages: List[dict]) -> List[dict]:
    return [m for m in messages if (m.get("custom") or {}).get("emergency")]


def assert_spanish_emergency(reply: List[dict]) -> None:
    found = emergency_messages(reply)
    assert found, reply
    text = found[0].get("text") or ""
    assert text.startswith("Esto puede ser una emergencia"), reply
    assert clinic().emergency_number in text and clinic().crisis_line in text, reply
    assert found[0]["custom"].get("call") == clinic().emergency_number, reply
    assert "not urgent" not in texts(reply).lower(), reply


def user_languages(tracker: dict) -> List[str]:
    return [(e.get("metadata") or {}).get("language") for e in tracker["events"] if e.get("event") == "user"]


def test_the_spanish_emergency_gets_the_emergency_reply_in_spanish(rasa_stack):
    who = sender("emergency")
    reply = rasa_stack.say(who, SPANISH_EMERGENCY)
    assert_spanish_emergency(reply)
    said = texts(reply)
    # The automated / not-a-doctor notice, once, in Spanish: the first reply is Spanish.
    assert said.count("no un médico") == 1 and "not a doctor" not in said, reply
    tracker = rasa_stack.tracker(who)
    assert tracker["slots"]["language"] == "es"
    assert tracker["slots"]["triage_level"] == "emergency"
    assert {"SS-HUNTER"} <= set(tracker["slots"]["red_flags"])
    assert user_languages(tracker) == ["es"]


def test_a_spanish_question_gets_english_for_now_with_the_numbers_and_the_conversation_goes_on(rasa_stack):
    who = sender("question")
    reply = rasa_stack.say(who, SPANISH_QUESTION)
    said = texts(reply)
    assert not emergency_messages(reply), reply
    assert "solo hablo inglés" in said, reply
    assert clinic().emergency_number in said and clinic().phone in said, reply
    assert rasa_stack.tracker(who)["slots"]["language"] == "es"
    # The conversation goes on in English.
    reply = texts(rasa_stack.say(who, "i want to book an appointment"))
    assert "full name" in reply.lower(), reply
    tracker = rasa_stack.tracker(who)
    assert (tracker.get("active_loop") or {}).get("name") == "booking_form"
    assert tracker["slots"]["language"] == "en"


def test_a_spanish_message_inside_a_form_keeps_the_form_and_its_question(rasa_stack):
    who = sender("form")
    assert "full name" in texts(rasa_stack.say(who, "i want to book an appointment")).lower()
    reply = rasa_stack.say(who, SPANISH_QUESTION)
    assert "solo hablo inglés" in texts(reply) and not emergency_messages(reply), reply
    tracker = rasa_stack.tracker(who)
    assert (tracker.get("active_loop") or {}).get("name") == "booking_form"
    assert tracker["slots"]["requested_slot"] == "patient_name"
    assert tracker["slots"]["patient_name"] is None  # the Spanish text answered nothing
    reply = texts(rasa_stack.say(who, "Jane Testperson"))
    assert "phone number" in reply.lower(), reply
    assert rasa_stack.tracker(who)["slots"]["patient_name"] == "Jane Testperson"


def test_the_spanish_emergency_with_the_action_server_stopped(rasa_stack):
    rasa_stack.stop_action_server()
    try:
        reply = talk(rasa_stack, sender("down"), SPANISH_EMERGENCY, timeout=30)
    finally:
        rasa_stack.start_action_server()
    assert_spanish_emergency(reply)
    notices = [m for m in reply if (m.get("custom") or {}).get("failsafe")]
    assert notices, reply  # and the honest trouble notice with the numbers, in Spanish
    assert notices[-1]["text"].startswith("El asistente tiene problemas"), reply
    assert clinic().emergency_number in notices[-1]["text"] and clinic().phone in notices[-1]["text"], reply
