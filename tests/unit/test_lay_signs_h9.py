"""Lay words for emergency signs and whose question it is (issue 9). Sentences written for these
tests, not taken from an evaluation set."""

from __future__ import annotations

import pytest

from bot.context import SELF, patient_of
from bot.symptoms import extract
from bot.triage import assess


@pytest.mark.parametrize("text, feature", [
    ("she had what looked like a fit in the kitchen", "seizure"),
    ("he threw some sort of fit and went stiff", "seizure"),
    ("my dad went out like a light for a few seconds", "loss_of_consciousness"),
    ("he was out for about a minute after", "loss_of_consciousness"),
    ("she took a bad fall at the rink and her back hurts", "recent_injury"),
    ("got a nasty knock playing rugby, neck is sore", "recent_injury"),
    ("she keeps scratching herself like crazy", "itching"),
    ("his arms are much tighter than usual", "rebound_spasticity"),
])
def test_lay_words_for_signs(text, feature):
    assert feature in extract(text).present


def test_a_hedged_fit_with_blackout_is_an_emergency():
    a = assess(["im on sertraline", "think i had some kind of fit, my wife says i was out cold"], strict=True)
    assert a.triage_level == "emergency" and "RF-SEIZURE" in a.rule_ids


def test_asking_for_themselves_makes_the_writer_the_patient():
    assert patient_of(["my dad has liver failure and gets muddled, but this is about me: my toes twitch"]) == SELF
    a = assess(["my dad has liver failure and gets muddled, but this is about me: my toes twitch"], strict=True)
    assert a.triage_level != "emergency"
