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


# ------------------------------------------------------------------ across messages and whose words
def test_a_stop_told_later_without_the_name_stops_the_medicine_named_before():
    a = assess(["my wife takes clonazepam at night", "oh wait she quit taking it two days ago, cold turkey"], strict=True)
    assert "RX-BENZO-STOP" in a.rule_ids
    assert [m.status for m in a.medications if m.name == "clonazepam"] == ["past"]


def test_the_patients_own_words_passed_on_are_the_patients():
    # the caregiver speaks for a "he": "he says he ..." is the patient, not someone else
    assert "shivering" in extract("my dad started effexor on monday, he says he feels shivery", "dad").present


def test_mixing_something_with_a_medicine_means_the_person_takes_it():
    from bot.medications import analyse

    statuses = {m.name: m.status for m in analyse("is it dangerous to combine stuff with paxil").mentions}
    assert statuses == {"paroxetine": "current"}


def test_microdosing_is_drug_use():
    from bot.medications import analyse

    assert "lsd" in {m.name for m in analyse("i microdose acid twice a week").mentions}


@pytest.mark.parametrize("text, feature", [
    ("past 48 hours his spasms are way worse", "sudden_worse"),
    ("since last night her legs jerk a lot more than before", "sudden_worse"),
    ("if i cross my legs my knee starts jumping", "inducible_clonus"),
])
def test_course_and_triggers_in_lay_words(text, feature):
    assert feature in extract(text).present


def test_worrying_again_and_again_is_not_recurring_clonus():
    assert "clonus_recurring" not in extract("her ankle bounced twice and stopped, i keep worrying about it").present
