"""Reading mechanisms from the misses of the triage6 dev half (issue 9), each in phrasings written for
this file (not the set's texts): a later time of "now" ends the scope of an older one, a stop said of
one name is not shared with an earlier name that has words of its own, a clause opened by "before
that" is the past, the writer taking someone else's medicine takes it, and a change of medicine said
as an intention has not happened yet."""

from __future__ import annotations

from bot.medications import analyse
from bot.symptoms import extract
from bot.triage import assess


def _status(text: str) -> dict:
    return {m.name: m.status for m in analyse(text).mentions}


# ----------------------------------------------------------------- a later "now" ends an older time

def test_symptom_after_a_later_time_of_now_is_current():
    assert "agitation" in extract("he began sertraline a month ago and tonight he is very restless").present
    assert "agitation" in extract("switched to venlafaxine 3 weeks ago and yesterday i got so restless").present
    # the older time still dates what it is said of
    assert "agitation" not in extract("i was very restless two months ago").present


def test_serotonergic_start_then_eye_clonus_tonight_is_an_emergency():
    text = ("my son started lexapro about three weeks ago and tonight his eyes are darting side to side, "
            "he is pacing the hall and is very agitated")
    a = assess([text], strict=True)
    assert a.triage_level == "emergency" and "SS-HUNTER" in a.rule_ids


# ----------------------------------------------------------------- a stop said of one name

def test_stop_said_of_the_second_name_is_not_shared_by_the_first():
    assert _status("sertraline 100 every morning and the tramadol was discontinued") == {
        "sertraline": "current", "tramadol": "past"}
    # a stop after a bare list is still shared
    assert _status("zoloft and tramadol, stopped them both last week") == {"sertraline": "past", "tramadol": "past"}


# ----------------------------------------------------------------- "before that" opens the past

def test_clause_opened_by_before_that_is_past():
    assert _status("on lexapro since march. before that citalopram for two years") == {
        "escitalopram": "current", "citalopram": "past"}
    assert _status("i take duloxetine now, and prior to that paroxetine") == {
        "duloxetine": "current", "paroxetine": "past"}


# ----------------------------------------------------------------- the writer takes another's medicine

def test_writer_taking_a_relations_medicine_takes_it():
    assert _status("ive been using my moms tramadol for my knee") == {"tramadol": "current"}
    assert _status("i took a couple of my sisters xanax last night") == {"alprazolam": "current"}
    # a relation's own medicine stays theirs
    assert _status("my mom takes tramadol, i only take sertraline") == {"tramadol": "other", "sertraline": "current"}


# ----------------------------------------------------------------- an intended change has not happened

def test_intended_stop_leaves_the_medicine_current():
    assert _status("my doctor wants me to come off paroxetine") == {"paroxetine": "current"}
    assert _status("im planning to quit the tramadol") == {"tramadol": "current"}


def test_intended_start_is_not_taken_yet():
    got = _status("she wants me to stop citalopram and begin selegiline")
    assert got == {"citalopram": "current", "selegiline": "hypothetical"}
    # a stop or start that happened is not an intention
    assert _status("i had to stop paroxetine") == {"paroxetine": "past"}
    assert _status("i stopped citalopram and began selegiline") == {"citalopram": "past", "selegiline": "current"}


# ----------------------------------------------------------------- questions about combining and options

def test_medicine_taken_with_another_in_a_question_is_the_one_the_person_is_on():
    assert _status("is it alright to take naproxen with sertraline") == {"naproxen": "hypothetical", "sertraline": "current"}
    assert _status("is it safe to mix ibuprofen with duloxetine") == {"ibuprofen": "hypothetical", "duloxetine": "current"}
    # a question about two taken together, not one with the other, asks about both
    assert _status("would it be ok if i took tylenol and advil") == {"acetaminophen": "hypothetical",
                                                                    "ibuprofen": "hypothetical"}


def test_options_weighed_in_a_question_are_not_taken():
    assert _status("is celexa a better choice than zoloft for me") == {"citalopram": "hypothetical",
                                                                      "sertraline": "hypothetical"}
    got = _status("would mirtazapine be gentler than trazodone with my tramadol")
    assert got == {"mirtazapine": "hypothetical", "trazodone": "hypothetical", "tramadol": "current"}


def test_medicine_suggested_or_floated_is_not_started():
    assert _status("my psychiatrist suggested trying buspirone") == {"buspirone": "hypothetical"}
    assert _status("the neurologist brought up possibly starting baclofen") == {"baclofen": "hypothetical"}


# ----------------------------------------------------------------- a supply said used up

def test_medicine_whose_supply_is_used_up_is_past():
    assert _status("percocet after my knee surgery, none left now") == {"oxycodone": "past"}
    assert _status("tramadol for the fracture, used them all up") == {"tramadol": "past"}
    # a supply that remains is still taken
    assert _status("tramadol for the fracture, a few left") == {"tramadol": "current"}


# ----------------------------------------------------------------- an uptake after the question

def test_number_taken_after_a_question_makes_the_asked_medicine_taken():
    assert _status("would tramadol be ok with my selegiline? i already took 2 of them") == {
        "tramadol": "current", "selegiline": "current"}
    # the uptake points back to the one asked about, even when a medicine taken now is named last
    assert _status("is it ok to take ibuprofen with my citalopram? i took a few already") == {
        "ibuprofen": "current", "citalopram": "current"}


def test_maoi_with_an_opioid_already_taken_is_urgent():
    a = assess(["can i use my parnate with the tramadol the dentist gave me? already took three of them"], strict=True)
    assert a.triage_level == "urgent" and "COMBO-MAOI" in a.rule_ids


# ----------------------------------------------------------------- a range of beats, sleep that disrupts

def test_range_of_beats_counts_by_its_larger_number():
    assert extract("my left foot jerks about six or seven times and then settles").beats == 7.0
    a = assess(["my calf pulses like 7-8 times when i flex my foot up"], strict=True)
    assert a.triage_level == "routine" and "CL-SUSTAINED" in a.rule_ids


def test_falling_asleep_in_the_days_work_disrupts_daily_life():
    a = assess(["tizanidine makes me so sleepy i keep nodding off at the computer at work"], strict=True)
    assert a.triage_level == "routine" and "RX-SEDATION" in a.rule_ids
    a = assess(["the gabapentin makes me drowsy all day, honestly i cant keep going like this"], strict=True)
    assert a.triage_level == "routine"
    # drowsiness alone is a common side effect
    assert assess(["gabapentin makes me a bit drowsy at night"], strict=True).triage_level == "self_care"


# ----------------------------------------------------------------- a plan does not reach the next statement

def test_plan_for_later_ends_at_a_new_subject():
    assert _status("theyre going to give me ciprofloxacin next week, i take tizanidine") == {
        "ciprofloxacin": "hypothetical", "tizanidine": "current"}
    assert _status("im going to start sertraline tomorrow, and i also take tramadol") == {
        "sertraline": "hypothetical", "tramadol": "current"}
    # a list in one plan is all planned
    assert _status("going to get prozac and tramadol tomorrow") == {"fluoxetine": "hypothetical",
                                                                    "tramadol": "hypothetical"}


# ----------------------------------------------------------------- "does a ... thing", "lasts a while"

def test_limb_doing_a_movement_thing_is_clonus():
    assert "clonus" in extract("her ankle keeps doing this little bouncing thing").present
    assert "clonus" not in extract("the cat does a shaking thing after a bath").present


def test_recurring_foot_movement_that_lasts_a_while_is_sustained():
    a = assess(["my sons heel does a weird tapping thing, it lasts a while and comes back most days"], strict=True)
    assert a.triage_level == "routine" and "CL-SUSTAINED" in a.rule_ids
