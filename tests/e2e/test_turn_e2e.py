"""Issue 10 through the real Rasa server and action server: one assessment per turn, the emergency
reply only for emergencies and always for them (inside a form too), and a crisis mode that stays."""

from __future__ import annotations

import uuid
from typing import List

import pytest

from tests.e2e.stack import texts

pytestmark = pytest.mark.e2e


def is_emergency(messages: List[dict]) -> bool:
    return any((m.get("custom") or {}).get("emergency") for m in messages) and "911" in texts(messages)


def sender(kind: str) -> str:
    return f"e2e-turn-{kind}-{uuid.uuid4().hex[:8]}"


def to_the_time_question(stack, who: str) -> None:
    stack.say(who, "i want to book an appointment")
    stack.say(who, "Jane Testperson")
    reply = texts(stack.say(who, "(312) 555-0142"))
    assert "day and time" in reply.lower(), reply


def test_stated_emergency_mid_booking_form_interrupts_it(rasa_stack):
    who = sender("form-emergency")
    rasa_stack.say(who, "i want to book an appointment")
    rasa_stack.say(who, "Jane Testperson")  # now at the phone question
    reply = rasa_stack.say(who, "omg she just went stiff and was shaking all over and now shes not answering me")
    assert is_emergency(reply), reply
    assert "phone number" not in texts(reply).lower()
    tracker = rasa_stack.tracker(who)
    assert not (tracker.get("active_loop") or {}).get("name")  # the form is over
    assert {"RF-SEIZURE", "RF-UNRESPONSIVE"} <= set(tracker["slots"]["red_flags"])


def test_ambulance_request_inside_the_form_is_an_emergency(rasa_stack):
    who = sender("form-ambulance")
    to_the_time_question(rasa_stack, who)
    reply = rasa_stack.say(who, "forget that, we need an ambulance")
    assert is_emergency(reply), reply


@pytest.mark.parametrize("answer", ["tuesday 9:30", "dec 8 10am"])
def test_a_time_answer_in_the_booking_form_is_not_an_emergency(rasa_stack, answer):
    who = sender("form-time")
    to_the_time_question(rasa_stack, who)
    reply = rasa_stack.say(who, answer)
    assert not is_emergency(reply), reply
    assert "911 now" not in texts(reply)
    tracker = rasa_stack.tracker(who)
    assert (tracker.get("active_loop") or {}).get("name") == "booking_form"
    assert tracker["slots"]["triage_level"] != "emergency"


@pytest.mark.parametrize("text", ["HELP", "lkjlkj 8888", "no wait wrong number, its 312-555-0177", "10 sec"])
def test_everyday_input_outside_forms_raises_no_alarm(rasa_stack, text):
    reply = rasa_stack.say(sender("everyday"), text)
    assert not is_emergency(reply), reply


def test_the_turns_assessment_is_in_the_tracker(rasa_stack):
    who = sender("slot")
    rasa_stack.say(who, "hi")
    rasa_stack.say(who, "I take sertraline and tramadol")
    value = rasa_stack.tracker(who)["slots"]["assessment"]
    assert value["messages"] == 2
    assert {m["name"] for m in value["medications"]} == {"sertraline", "tramadol"}
    assert [f["id"] for f in value["red_flags"]] == ["COMBO-HIGH-OPIOID"]


@pytest.mark.parametrize(
    "turns",
    [
        ["hi", "is it the dantrium? my eyes look yellow"],
        ["I take dantrium for my spasms", "should I worry? my eyes have gone yellow"],
    ],
)
def test_an_urgent_finding_is_told_in_the_same_turn_whatever_the_reply(rasa_stack, turns):
    who = sender("told-at-once")
    for text in turns[:-1]:
        rasa_stack.say(who, text)
    reply = texts(rasa_stack.say(who, turns[-1]))
    assert "today" in reply and "dantrolene" in reply, reply
    assert "RX-DANTROLENE-LIVER" in rasa_stack.tracker(who)["slots"]["red_flags"]


def test_an_unrecognised_medicine_is_said_back_in_the_same_turn(rasa_stack):
    who = sender("unrecognised")
    rasa_stack.say(who, "hi")
    reply = texts(rasa_stack.say(who, "what is clonus? i take xyloblaxin 20mg"))
    assert "xyloblaxin" in reply.lower(), reply


def test_crisis_mode_stays_for_the_rest_of_the_conversation(rasa_stack):
    who = sender("crisis")
    first = rasa_stack.say(who, "everyone would be better off without me")
    assert is_emergency(first) and "988" in texts(first), first
    later = [
        "yeah. i have a lot of my pills saved up",
        "can i book an appointment for tuesday",
        "I'm not going to hurt myself",
        "what is clonus",
    ]
    for text in later:
        reply = rasa_stack.say(who, text)
        said = texts(reply)
        assert "988" in said and "911" in said, (text, reply)
        assert not any(m.get("buttons") for m in reply), (text, reply)
        tracker = rasa_stack.tracker(who)
        assert not (tracker.get("active_loop") or {}).get("name"), text  # no booking started or continued
        assert tracker["slots"]["assessment"]["crisis"] is True
    assert tracker["slots"]["patient_name"] is None
