"""General context mechanisms of bot.context and their use by the medicine recogniser (issue 9):
a denial inside the words it denies, a plan for later, a condition with someone else's verb, a
decade of life, a stop told with its duration, a device that keeps delivering, a course given in
the past, a planned medicine taken after all, an abbreviation's full stop, whose friend.
The sentences are written for these tests (not taken from any evaluation set)."""

from __future__ import annotations

import pytest

from bot.context import context
from bot.medications import analyse
from bot.symptoms import extract


def _status(text, name):
    found = [m.status for m in analyse(text).mentions if m.name == name]
    assert found, f"{name} not recognised in {text!r}"
    return "current" if "current" in found else found[0]


# ------------------------------------------------------------------ a denial inside its target
@pytest.mark.parametrize("text, feature", [
    ("her face is not drooping at all", "face_droop"),
    ("my face isnt drooping, i just have a headache", "face_droop"),
])
def test_a_denial_inside_the_target_negates_it(text, feature):
    assert feature not in extract(text).present


def test_a_target_that_goes_on_past_the_denial_is_not_denied():
    assert "face_droop" in extract("the left side of his face is drooping").present


# ------------------------------------------------------------------ a plan for later
@pytest.mark.parametrize("text, name", [
    ("I'm going to be starting Nardil next week", "phenelzine"),
    ("picking up my lyrica prescription tomorrow", "pregabalin"),
    ("the neuro said they will put him on keppra next month", "levetiracetam"),
    ("la semana que viene voy a empezar fluoxetina", "fluoxetine"),
    ("I'll probably get tramadol after the operation", "tramadol"),
])
def test_a_plan_for_later_is_not_current(text, name):
    assert _status(text, name) == "hypothetical"


def test_future_is_a_context_reading():
    ctx = context("starting sertraline in two weeks")
    start = ctx.norm.index("sertraline")
    mods = ctx.at(start, start + len("sertraline"))
    assert mods.future and mods.hypothetical and not mods.asserted


@pytest.mark.parametrize("text, name", [
    ("im on baclofen, seeing the neuro next week", "baclofen"),
    ("I started Nardil last week", "phenelzine"),
])
def test_current_medicines_stay_current_near_a_future_time(text, name):
    assert _status(text, name) == "current"


def test_getting_worse_is_not_a_plan():
    ctx = context("my spasms are getting worse, appointment next week")
    assert not any(s.future for s in ctx.scopes)


# ------------------------------------------------------------------ conditions
@pytest.mark.parametrize("text, name, other, other_status", [
    ("if my psychiatrist prescribes lithium would that be a problem with my prozac", "lithium", "fluoxetine", "current"),
    ("if she ever needed tramadol what should we watch for", "tramadol", None, None),
    ("y si me dan tramadol con la sertralina?", "tramadol", None, None),
    ("if they give me fentanyl in surgery, is that safe with lexapro?", "fentanyl", "escitalopram", "current"),
])
def test_a_condition_makes_a_medicine_hypothetical(text, name, other, other_status):
    assert _status(text, name) == "hypothetical"
    if other:
        assert _status(text, other) == other_status


# ------------------------------------------------------------------ the past
@pytest.mark.parametrize("text, name", [
    ("took ecstasy a lot in my early twenties", "mdma"),
    ("havent touched meth in a year", "methamphetamine"),
    ("the ER gave him cipro three weeks ago", "ciprofloxacin"),
    ("took ativan before he started klonopin", "lorazepam"),
    ("I took St. John's wort before I started sertraline", "st john's wort"),
])
def test_said_in_the_past(text, name):
    assert _status(text, name) != "current"


def test_a_stop_told_with_its_duration_is_a_stop():
    m = next(m for m in analyse("havent touched meth in a year").mentions if m.name == "methamphetamine")
    assert m.stopped and m.days_since_stop and m.days_since_stop > 300


@pytest.mark.parametrize("text, name", [
    ("her baclofen pump was refilled a month ago", "baclofen"),
    ("took ativan before he started klonopin", "clonazepam"),
    ("I took St. John's wort before I started sertraline", "sertraline"),
    ("dr. jones put me on effexor", "venlafaxine"),
])
def test_still_taken(text, name):
    assert _status(text, name) == "current"


# ------------------------------------------------------------------ planned, then taken
def test_a_planned_medicine_taken_after_all_is_current():
    assert _status("the neuro wants me to try gabapentin. took my first dose this morning", "gabapentin") == "current"
    assert _status("my doctor is thinking about adding trazodone. i took one last night", "trazodone") == "current"


def test_a_planned_medicine_not_yet_taken_stays_planned():
    assert _status("the neuro wants me to try gabapentin. i havent taken it yet", "gabapentin") == "hypothetical"


# ------------------------------------------------------------------ whose
def test_the_writer_with_a_condition_of_their_own_is_the_patient():
    assert _status("i have ms, my wife is on zoloft and she drives me to the clinic", "sertraline") != "current"


def test_someones_friend_is_someone_else():
    assert _status("my daughters boyfriend brought molly to the party", "mdma") != "current"


def test_an_imagined_stop_is_not_a_stop():
    for text in ("if i stopped my valium would i get withdrawal", "what happens if i quit my paxil cold turkey?"):
        found = [m for m in analyse(text).mentions]
        assert found and not any(m.stopped for m in found), text


@pytest.mark.parametrize("text, name", [
    ("the neuro suggested amitriptyline for sleep but i havent started it", "amitriptyline"),
    ("my sister offered me her xanax but i didnt", "alprazolam"),
])
def test_a_clause_that_says_it_has_not_happened_makes_the_name_not_taken(text, name):
    assert _status(text, name) != "current"


def test_a_medicine_that_stopped_working_beside_the_new_one_is_past():
    assert _status("on keppra now, the lamictal stopped working", "lamotrigine") == "past"
    assert _status("on keppra now, the lamictal stopped working", "levetiracetam") == "current"


def test_a_course_finished_in_the_same_sentence_is_past():
    assert _status("they gave him cephalexin on monday and he finished it yesterday", "cephalexin") == "past"


def test_a_stop_month_with_the_month_of_now_dates_the_stop():
    m = next(m for m in analyse("came off lexapro in february, it's june now").mentions if m.name == "escitalopram")
    assert m.stopped and m.days_since_stop == 120
    m = next(m for m in analyse("came off lexapro in february").mentions if m.name == "escitalopram")
    assert m.days_since_stop is None  # a month alone: how long ago is not known (the rules stay cautious)


def test_a_stop_months_ago_is_beyond_the_washout():
    from bot.triage import assess

    a = assess(["quit my celexa back in january, it is may now. started nardil a few days ago"], strict=True)
    assert "COMBO-WASHOUT" not in a.rule_ids


@pytest.mark.parametrize("text", [
    "can i book an appt, my dad just had a seizure and wont wake up",
    "can i come in tomorrow, his lips are turning blue",
    "should i call the clinic, her whole body is jerking and she has a fever of 104",
])
def test_a_question_ends_at_a_comma_before_someones_news(text):
    """A hypothetical trigger ("can i", "should i") reaches no further than its own question: what
    follows a comma about my/his/her ... is said, not asked (was self_care before 2026-12-04b)."""
    from bot.triage import assess

    assert assess([text]).triage_level == "emergency"


@pytest.mark.parametrize("messages, names", [
    (["Hello, I need some advice for my mother", "my mom is on nardil and the ER gave her tramadol today"], {"phenelzine", "tramadol"}),
    (["asking for my father", "my dad takes zoloft and they gave him linezolid"], {"sertraline", "linezolid"}),
    (["my hubby has ms", "my husband is on effexor and started tramadol"], {"venlafaxine", "tramadol"}),
    (["its about my grandmother", "grandma is on lithium and sertraline"], {"lithium", "sertraline"}),
])
def test_two_words_for_the_same_relation_are_one_patient(messages, names):
    """"mother" then "mom": the same person, whose medicines are current (before 2026-12-04b they were
    someone else's and dropped, and an MAOI combination was self_care)."""
    from bot.triage import assess

    current = {m.name for m in assess(messages).medications if m.status == "current"}
    assert names <= current
