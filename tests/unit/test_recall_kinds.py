"""Kinds of misses found on the tuning sets (issue 9, branch h9-recall), one row per mechanism.

Every sentence here is written for this file: a paraphrase of the kind, not any blind set's wording.
"""

import pytest

from bot.context import patient_of
from bot.lang_es import spanish_findings
from bot.medications import analyse
from bot.symptoms import extract
from bot.triage import assess


@pytest.mark.parametrize("text, feature", [
    # RF-CORD: an accident told in lay words, or not feeling the need to go
    ("my dad wet through his trousers on the couch, he had an accident in his pants and was shocked", "bladder_bowel_loss"),
    ("she didnt even feel that she needed to pee and it just came out", "bladder_bowel_loss"),
    # RF-LIVER: hardly rousable, asleep most of the day
    ("we can barely wake him up for his meals", "extreme_sleepiness"),
    ("hes in bed sleeping nearly 19 hours every day", "extreme_sleepiness"),
    # RF-MENINGITIS: not oriented, the neck hurts when it moves
    ("she couldnt tell me what year it is", "confusion"),
    ("his neck hurts when he turns it", "stiff_neck"),
    # RX-SEDATION routine: dozing at work, disciplinary action
    ("i dozed off during meetings twice this week on the new pills", "disrupts_daily_life"),
    ("i got written up because i was so slow", "disrupts_daily_life"),
    # CL-SUDDEN-WORSE: "went from a little to constant" over days
    ("the jerking in his legs went from now and then to constant over the past three days", "sudden_worse"),
    # CL-KNOWN-CONDITION: a stroke dated in the past
    ("a stroke 3 years ago left my right side spastic", "condition_stroke"),
])
def test_lay_feature(text, feature):
    assert feature in extract(text).present


@pytest.mark.parametrize("text, feature", [
    # a simile describing the jerk itself is not a separate tremor
    ("my knee jerks when i straighten it, like a small shake that dies down", "tremor"),
    # "my bad arm" is the weak side, not an apology
    ("my bad leg kicks at night since the stroke", "correction"),
])
def test_not_a_feature(text, feature):
    assert feature not in extract(text).present


@pytest.mark.parametrize("text", [
    "i had a fit once when i was 6, nothing since",
    "he had seizures at age 4 and grew out of them",
])
def test_age_in_the_past_is_historical(text):
    assert "seizure" not in extract(text).present
    assert assess([text]).triage_level != "emergency"


def test_relation_without_gendered_pronoun_is_cared_for():
    # a roommate, a partner, a friend: "his"/"her" in the same message is the cue of care
    text = "my flatmate and i live together. my roommate is burning up with fever and her neck is so stiff she cant look down"
    assert patient_of([text]).relation == "roommate"
    assert assess([text]).triage_level == "emergency"


def test_taper_is_not_an_abrupt_stop():
    a = assess(["my doctor and i are weaning off my diazepam, one step every three weeks, going fine"])
    assert "RX-BENZO-STOP" not in a.rule_ids
    assert [m.status for m in a.medications if m.name == "diazepam"] == ["current"]
    b = assess(["i tapered off baclofen over six weeks with my neurologist, no issues"])
    assert "RX-BACLOFEN-STOP" not in b.rule_ids


def test_taper_abandoned_is_still_a_stop():
    a = assess(["i was meant to taper the clonazepam but i quit it all at once on sunday"])
    assert "RX-BENZO-STOP" in a.rule_ids


def test_brief_beats_on_long_term_serotonergic_agent_is_routine():
    # policy silent (CL-BRIEF needs no serotonergic agent): the more cautious level
    a = assess(["taking celexa for years, my ankle beats twice when i pull my toes up and then it stops. nothing else going on"])
    assert a.triage_level == "routine" and "CL-BRIEF" in a.rule_ids


def test_spanish_known_condition_limits_daily_life():
    present, _ = spanish_findings("tiene esclerosis multiple, el clonus esta peor y le cuesta caminar")
    assert {"condition_ms", "disrupts_daily_life", "worse"} <= present


def test_medication_status_taper():
    assert [m.status for m in analyse("tapering off xanax slowly").mentions] == ["current"]
