"""Lay phrasings the engine must understand, one row per mechanism (issue 9, branch h9-generalise).

The sentences are paraphrases of each family, not the blind sets' wording: a lexicon family, a
context scope, the patient a caregiver speaks for, a medicine's status, a conversation that
continues a question.
"""

import pytest

from bot.context import normalise, patient_of
from bot.medications import analyse
from bot.symptoms import extract
from bot.triage import assess


@pytest.mark.parametrize("text, feature", [
    ("too groggy to look after my kids in the morning", "disrupts_daily_life"),
    ("i keep missing my shifts at work", "disrupts_daily_life"),
    ("the light bothers him so he stays in a dark room", "photophobia"),
    ("she cant bend her neck forward", "stiff_neck"),
    ("having a hard time getting air in", "breathing_trouble"),
    ("i cant take a deep breath", "breathing_trouble"),
    ("we cant wake my dad up", "unresponsive"),
    ("his legs are twitching nonstop", "spontaneous_clonus"),
    ("my calves are contracting on their own", "spontaneous_clonus"),
    ("when the doctor tapped my knee my leg shot up way more than usual", "hyperreflexia"),
    ("my foot goes like a sewing machine whenever i lean on it", "inducible_clonus"),
    ("got rear ended on the highway", "recent_injury"),
    ("my hands feel numb and weak", "limb_weakness"),
    ("i looked up how much of my seroquel it would take", "self_harm"),
    ("ive been stashing my oxycodone in a drawer", "self_harm"),
    ("i just want it all to be over", "self_harm"),
    ("im so tired of living", "self_harm"),
    ("im sweatin n shakin", "diaphoresis"),
])
def test_lay_phrasing_is_read(text, feature):
    assert feature in extract(text).present


@pytest.mark.parametrize("text, feature", [
    ("my back is killing me", "self_harm"),
    ("wrote a letter to my insurance", "self_harm"),
    ("how many weeks would it take for lexapro to work", "self_harm"),
    ("saving up my vacation days", "self_harm"),
    ("im stiff after the gym", "hypertonia"),
    ("not gonna lie, no thoughts of hurting myself", "self_harm"),
    ("is clonus a thing with zoloft?", "clonus"),
    ("had a seizure 10 years ago", "seizure"),
])
def test_near_miss_is_not_read(text, feature):
    assert feature not in extract(text).present


def test_not_gonna_lie_is_not_negation():
    assert "self_harm" in extract("not gonna lie i know how id do it").present


def test_was_on_the_couch_is_not_the_past():
    assert "muscle_jerks" in extract("he was on the couch and jerking and not answering", "husband").present


def test_a_time_after_what_it_dates_stops_at_the_comma():
    present = extract("hurt my back 3 years ago, my leg clonus is worse").present
    assert {"clonus", "worse"} <= present


def test_text_message_spellings_are_written_out():
    norm, where = normalise("shakin n sweatin bc of it")
    assert norm == "shaking and sweating because of it"
    assert len(where) == len(norm) + 1


def test_an_extended_relation_with_a_cue_of_care_is_the_patient():
    assert patient_of(["my uncle has ms, his legs have been jerking all day"]).relation == "uncle"
    assert patient_of(["my uncle takes prozac"]).is_self


def test_a_relation_named_then_a_pronoun_is_one_person():
    a = assess(["my grandpa is on sertraline and his dose went up", "hes seeing people in the room who arent there"])
    assert a.triage_level == "emergency"
    assert "sertraline" in [m.name for m in a.medications if m.status == "current"]


def test_an_unqualified_pump_is_the_baclofen_pump():
    a = assess(["the pump refill got cancelled", "now she is rigid and confused"])
    assert "RX-BACLOFEN-WITHDRAWAL" in a.rule_ids
    assert not {"RX-BACLOFEN-WITHDRAWAL", "RX-BACLOFEN-STOP"} & set(assess(["my insulin pump alarm went off"]).rule_ids)


def test_taking_what_was_only_asked_about():
    a = assess(["can i take tramadol with my cymbalta?", "well i already took it an hour ago"])
    assert "tramadol" in [m.name for m in a.medications if m.status == "current"]


@pytest.mark.parametrize("text, name, stopped", [
    ("my dad quit taking his lorazepam 2 days ago", "lorazepam", True),
    ("i was on paxil until three days ago", "paroxetine", True),
    ("the doctor switched my cipro to amoxicillin", "ciprofloxacin", True),
])
def test_stops_are_read(text, name, stopped):
    m = next(m for m in analyse(text).mentions if m.name == name)
    assert m.status == "past" and m.stopped is stopped


def test_seizure_told_as_shaking_and_not_responding():
    assert assess(["she went stiff, her arms were shaking and she didnt respond to us"]).triage_level == "emergency"


def test_spanish_message_is_read():
    a = assess(["tomo zoloft y ahora tengo fiebre y estoy sudando mucho"])
    assert a.triage_level == "emergency"
    assert assess(["tomo zoloft, no tengo fiebre ni sudor, todo bien"]).triage_level != "emergency"
