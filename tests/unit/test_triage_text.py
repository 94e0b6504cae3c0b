"""The person-facing text: per level, with reasons, the number to call, and never "stop taking"."""

from __future__ import annotations

import re

import pytest

from bot.settings import Clinic
from bot.triage import assess
from bot.triage_text import describe

CLINIC = Clinic(name="Test Neuro", phone="+1 555 010 0123", address="1 Test St", timezone="UTC",
                emergency_number="112", crisis_line="0800 111", opening_hours={})

CASES = {
    "emergency": ["I take sertraline and my legs keep jerking on their own"],
    "urgent": ["I take phenelzine and tramadol"],
    "routine": ["I take sertraline and tramadol"],
    "self_care": ["baclofen makes me a bit drowsy"],
}


@pytest.mark.parametrize("level, messages", CASES.items())
def test_each_level(level, messages):
    a = assess(messages)
    assert a.triage_level == level
    text = describe(a, CLINIC)
    assert "not a doctor" in text
    assert not re.search(r"\bstop (?:taking|your|the|it)\b", text, re.I)
    for flag in a.red_flags:
        assert flag.reason in text or flag.level != level


def test_emergency_gives_the_number_and_says_not_to_wait():
    text = describe(assess(CASES["emergency"]), CLINIC)
    assert "Call 112 now" in text and "Do not wait for an appointment" in text
    assert "emergency department" in text
    assert "sertraline" in text


def test_self_harm_gives_the_crisis_line():
    text = describe(assess(["I want to kill myself"]), CLINIC)
    assert "112" in text and "0800 111" in text


def test_urgent_gives_clinic_phone_and_escalation_signs():
    text = describe(assess(CASES["urgent"]), CLINIC)
    assert "+1 555 010 0123" in text and "today" in text
    assert "Call 112 right away if" in text and "fever" in text


def test_routine_offers_booking():
    assert "book" in describe(assess(CASES["routine"]), CLINIC)


def test_self_care_says_when_to_seek_care():
    text = describe(assess(["what is clonus?"]), CLINIC)
    assert "no sign that you need care" in text and "book" in text
    drowsy = describe(assess(CASES["self_care"]), CLINIC)
    assert "Do not drive" in drowsy


def test_unrecognised_names_are_said_back():
    text = describe(assess(["I take xylophrine 20mg"]), CLINIC)
    assert "I did not recognise xylophrine; please confirm the name with a pharmacist." in text


def test_short_sentences():
    for messages in CASES.values():
        text = describe(assess(messages), CLINIC)
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s]
        words = [len(s.split()) for s in sentences]
        assert sum(words) / len(words) < 22
