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
