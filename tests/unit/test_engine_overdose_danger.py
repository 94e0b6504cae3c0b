"""RF-OVERDOSE and the danger_now part of RF-STATED-EMERGENCY (not policy ids: the policy is silent on
an overdose taken, chest pain and someone dying; the more cautious level). Phrasings written here."""

from __future__ import annotations

import pytest

from bot.settings import load_clinic
from bot.triage import assess
from bot.triage_text import describe


def flags(text):
    return [f.id for f in assess([text]).red_flags]


@pytest.mark.parametrize("text", [
    "i swallowed all of my tablets",
    "my daughter ate a handful of my gabapentin",
    "took about 40 of my tizanidine an hour ago",
    "he downed the whole bottle of his sleeping pills",
    "i think my husband overdosed",
    "i took an overdose",
])
def test_an_overdose_taken_is_an_emergency(text):
    a = assess([text])
    assert a.triage_level == "emergency" and "RF-OVERDOSE" in flags(text), text
    told = describe(a, load_clinic())
    assert "911" in told and "988" in told  # an overdose may be self-harm that was not said


@pytest.mark.parametrize("text", [
    "i took all my meds this morning like always",
    "did you take all your pills? yes i took all my pills today",
    "what happens if someone took too many baclofen",
    "i overdosed years ago, im fine now",
    "i took 2 of my baclofen at bedtime",
    "never overdosed on anything",
])
def test_taking_ones_medicines_or_asking_about_an_overdose_is_not_one(text):
    assert "RF-OVERDOSE" not in flags(text), text


@pytest.mark.parametrize("text", [
    "bad chest pain right now",
    "my chest is tight and it hurts so much",
    "i think im having a heart attack",
    "pls help i think shes dying",
])
def test_chest_pain_or_someone_dying_is_a_stated_emergency(text):
    a = assess([text])
    assert a.triage_level == "emergency" and "RF-STATED-EMERGENCY" in flags(text), text
    assert "911" in describe(a, load_clinic())


@pytest.mark.parametrize("text", [
    "no chest pain at all",
    "you nearly gave me a heart attack with that bill",
    "im dying to know what clonus is",
    "what are the signs of a heart attack",
    "my grandpa had a heart attack in 2010",
])
def test_idioms_denials_and_questions_are_not(text):
    assert "RF-STATED-EMERGENCY" not in flags(text), text


@pytest.mark.parametrize("text", [
    "i feel like such a burden on my family",
    "im just a burden to everyone now",
    "i wont be here much longer anyway so whats the point",
    "why bother booking, i wont be around by then",
])
def test_burden_and_a_future_not_seen_are_self_harm(text):
    a = assess([text])
    assert "RF-SELF-HARM" in flags(text), text
    assert "988" in describe(a, load_clinic())


@pytest.mark.parametrize("text", [
    "i wont be around for christmas, im travelling",
    "i dont want to be a burden, can someone drive me to the visit",
    "refilling the pump is a burden",
    "my husband wont be around tomorrow so can we do tuesday",
])
def test_trips_and_chores_are_not(text):
    assert "RF-SELF-HARM" not in flags(text), text
