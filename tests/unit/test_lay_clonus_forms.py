"""Routine clonus told in forms the lexicon did not read (issue 9, routine -> self_care under-triage):
the movement as a noun before the limb, a limb moving in a rhythm, a duration with a hedge or a
fraction, a known condition named with a noun. Phrasings are mine, none from a vignette set."""

from __future__ import annotations

import pytest

from bot.symptoms import extract
from bot.triage import assess


@pytest.mark.parametrize("text", [
    "theres a bouncing in my right ankle whenever i climb stairs",
    "the pumping of his foot on the wheelchair rest",
    "the shaking in her left foot when she stands",
    "his heel moves in a steady rhythm when it rests on the floor",
    "my calf does a rhythmic twitchy thing at night",
])
def test_movement_of_a_limb_said_any_way_is_clonus(text):
    assert {"clonus", "inducible_clonus", "spontaneous_clonus", "muscle_jerks"} & extract(text).present


@pytest.mark.parametrize("text", [
    "it lasts maybe half a minute each time",
    "goes for like a minute or so",
    "the beating carries on for a good while",
    "lasted around 20 seconds",
])
def test_a_hedged_duration_is_sustained(text):
    assert "clonus_sustained" in extract(text).present


@pytest.mark.parametrize("text", [
    "lasts maybe 2 seconds then stops",
    "around 3 seconds and its gone",
])
def test_a_hedged_few_seconds_is_not_sustained(text):
    assert "clonus_sustained" not in extract(text).present


@pytest.mark.parametrize("text", [
    "my foot does a rhythmic pumping thing that goes on for about half a minute",
    "dad is 75, the bouncing in his left foot only happens on that side",
    "im an ms patient and the beating in my ankles is stopping me from driving",
])
def test_routine_clonus_in_lay_forms_is_not_self_care(text):
    a = assess([text], strict=True)
    assert a.triage_level == "routine", (a.triage_level, a.rule_ids)


def test_a_few_beats_said_as_a_noun_stay_self_care():
    a = assess(["the pulsing in my calf lasts around 3 seconds then stops"], strict=True)
    assert a.triage_level == "self_care" and "CL-BRIEF" in a.rule_ids


def test_ms_named_as_a_noun_is_the_condition():
    assert "condition_ms" in extract("ms patient for 10 years").present


@pytest.mark.parametrize("text,beats", [
    ("when the nurse flexes it my ankle bounces about 9 times", 9.0),
    ("it jerked like twelve times before stopping", 12.0),
    ("my foot tapped 3 times then quit", 3.0),
])
def test_a_count_said_after_the_movement_is_beats(text, beats):
    assert extract(text).beats == beats


def test_slow_to_settle_is_sustained():
    assert "clonus_sustained" in extract("my foot shakes when i stand and takes a while to calm down").present
    a = assess(["when the physio pushes my foot up it bounces about 8 times"], strict=True)
    assert a.triage_level == "routine" and "CL-SUSTAINED" in a.rule_ids
