"""Mechanisms behind the misses of blind set triage7 dev (issue 9), helper h9t7. Every sentence here is
written for these tests, not taken from any evaluation set."""

from __future__ import annotations

import pytest

from bot.medications import analyse
from bot.symptoms import extract
from bot.triage import assess


def _status(text, name):
    found = [m.status for m in analyse(text).mentions if m.name == name]
    assert found, f"{name} not recognised in {text!r}"
    return "current" if "current" in found else found[0]


# ------------------------------------------------------------------ a question answered with a denial
@pytest.mark.parametrize("text, feature", [
    ("the nurse asked me whether i had any thoughts of killing myself - no, not at all", "self_harm"),
    ("my therapist asked if i think about ending my life: no never", "self_harm"),
    ("any seizures lately? nope. just stiff legs", "seizure"),
    ("fever? no.", "fever"),
])
def test_a_question_answered_no_is_denied(text, feature):
    assert feature not in extract(text).present


@pytest.mark.parametrize("text, feature", [
    # the answer goes on: not an answer of denial
    ("the nurse asked if i had thoughts of killing myself - yes, most days", "self_harm"),
    ("thoughts of killing myself? yes. every night", "self_harm"),
    ("did he have a seizure? no idea, he was on the floor shaking and not answering", "seizure"),
])
def test_a_question_not_denied_still_counts(text, feature):
    assert feature in extract(text).present


def test_a_denied_self_harm_question_is_not_an_emergency():
    a = assess(["the intake sheet asked if i ever wanted to hurt myself - no, never. my calves are just sore after the gym"])
    assert a.triage_level != "emergency"
    assert "RF-SELF-HARM" not in a.rule_ids


@pytest.mark.parametrize("text, name", [
    ("cocaine? no never", "cocaine"),
    ("tramadol? never taken it", "tramadol"),
])
def test_a_medicine_question_answered_no_is_negated(text, name):
    assert _status(text, name) == "negated"


# ------------------------------------------------------------------ a present clause after a dated one
def test_a_present_clause_after_and_is_not_dated_by_the_earlier_year():
    report = extract("he had a spinal injury in 2018 and his left foot does a bouncing thing now and then")
    assert "clonus" in report.present


def test_a_past_clause_after_and_stays_dated():
    report = extract("back in 2015 i took paxil and my legs jerked")
    assert "muscle_jerks" not in report.present


def test_known_condition_worse_by_lasting_longer():
    a = assess(["my ms was diagnosed in 2016 and my left ankle does this clonus thing",
                "the episodes are going on way longer these days and it keeps making me stumble"])
    assert "CL-KNOWN-CONDITION" in a.rule_ids
    assert a.triage_level == "routine"


# ------------------------------------------------------------------ limits daily life, in hedged words
@pytest.mark.parametrize("text", [
    "the baclofen leaves me so woozy that i nearly fell on the stairs three times",
    "on gabapentin im drowsy and i can't actually manage my usual tasks",
    "this dizziness is making me lose my balance",
])
def test_sedation_that_limits_daily_life(text):
    assert "disrupts_daily_life" in extract(text).present


def test_sedation_that_limits_daily_life_is_routine():
    a = assess(["since the tizanidine went up im dizzy and i can barely manage my daily routine"])
    assert "RX-SEDATION" in a.rule_ids and a.triage_level == "routine"


# ------------------------------------------------------------------ "keeps going" of a foot is clonus
def test_a_foot_that_keeps_going_is_clonus():
    assert "clonus" in extract("his right heel keeps on going once he rests it on the step").present


def test_a_foot_that_keeps_going_numb_is_not_clonus():
    assert "clonus" not in extract("my foot keeps going numb when i sit too long").present


def test_a_counted_one_sided_foot_that_keeps_going_is_sustained_clonus():
    a = assess(["my dad's right ankle keeps going while he sits with his heel up", "about 15 beats each time, no medicines"])
    assert "CL-SUSTAINED" in a.rule_ids


# ------------------------------------------------------------------ mixed Spanish and English
def test_mixed_language_trigger_and_duration_are_read():
    a = assess(["cuando camino my left foot starts shaking, no para hasta que me siento, como 20 segundos"])
    assert "CL-SUSTAINED" in a.rule_ids
    assert "inducible_clonus" in a.symptoms


# ------------------------------------------------------------------ medicines: status mechanisms
@pytest.mark.parametrize("text, name", [
    ("never tried molly or acid in my life", "lsd"),
    ("i dont do coke or molly", "mdma"),
])
def test_a_street_name_listed_after_a_street_drug_shares_its_context(text, name):
    assert _status(text, name) == "negated"


def test_an_allergy_means_not_taken():
    assert _status("please nothing with sulfa, and im allergic to tramadol", "tramadol") != "current"


def test_a_prescription_never_filled_is_not_taken():
    assert _status("the dentist sent in a script for tramadol but never used it", "tramadol") != "current"


def test_a_hyphenated_name_asked_about_is_hypothetical():
    assert _status("could l-tryptophan be safe with my zoloft", "l-tryptophan") == "hypothetical"
    assert _status("could l-tryptophan be safe with my zoloft", "sertraline") == "current"


def test_before_starting_is_a_plan():
    assert _status("the psychiatrist said to taper the zoloft before starting parnate", "tranylcypromine") != "current"


def test_what_a_relation_does_is_theirs():
    assert _status("my aunt does acid on weekends, i only take prozac", "lsd") == "other"


def test_the_writer_who_takes_nothing_is_the_patient():
    assert _status("my husband takes cymbalta and i dont take anything", "duloxetine") == "other"


def test_done_with_it_ends_a_course():
    assert _status("they gave me percocet after the c-section, done with them now", "oxycodone") == "past"


def test_switching_me_to_a_name_later_keeps_the_current_one():
    assert _status("on celexa for now, they are switching me to zoloft next week", "citalopram") == "current"
    assert _status("on celexa for now, they are switching me to zoloft next week", "sertraline") != "current"


@pytest.mark.parametrize("text, word", [
    ("the pills are zentravo? something like that", "zentravo"),
    ("its a patch, norvestal or something", "norvestal"),
    ("some pelmarix from a pharmacy in canada", "pelmarix"),
])
def test_an_unknown_name_said_unsure_or_with_its_source_is_said_back(text, word):
    assert word in [u.lower() for u in analyse(text).unrecognised]


# ------------------------------------------------------------------ names: a silent e, a singular street name
def test_a_brand_spelled_without_its_silent_final_e():
    assert _status("she does tysabri? no, its copaxon she injects", "glatiramer") == "current"


def test_the_singular_street_name_of_percocet():
    assert _status("took one perc for my back last night", "oxycodone") == "current"


# ------------------------------------------------------------------ a medicine given once during a procedure
def test_a_medicine_given_during_a_procedure_days_ago_is_past():
    assert _status("they gave me fentanyl during my colonoscopy 4 days ago", "fentanyl") == "past"


def test_a_medicine_given_during_a_procedure_today_stays_current():
    assert _status("they gave me fentanyl during the surgery this morning", "fentanyl") == "current"


# ------------------------------------------------------------------ a start of "it" still to come
def test_a_start_of_it_still_to_come_makes_the_name_before_planned():
    text = "picked up the nortriptyline today, im starting it tomorrow night"
    assert _status(text, "nortriptyline") != "current"


def test_only_the_last_name_before_the_planned_start_is_planned():
    text = "been on celexa a year and the neuro added trazodone, i begin it on friday"
    assert _status(text, "citalopram") == "current"
    assert _status(text, "trazodone") != "current"


def test_the_usual_dose_tonight_is_not_a_plan():
    assert _status("got my baclofen refill, i take it tonight as usual", "baclofen") == "current"


@pytest.mark.parametrize("text", [
    "thoughts of killing myself? no... well yes, sometimes at night",
    "she asked if i ever wanted to hurt myself - no, but lately i do",
])
def test_a_denial_answer_taken_back_is_not_a_denial(text):
    assert "self_harm" in extract(text).present
