"""bot.context aspect (issue 9): whether a seizure is happening now or is a known history is read from
tense and aspect, for the person writing and for someone they speak about. Rows are my own phrasings,
one group per pattern class; none is copied from a vignette set."""

from __future__ import annotations

import pytest

from bot.context import CURRENT, HABITUAL, context
from bot.symptoms import extract
from bot.triage import assess


def _aspect(text: str, word: str) -> object:
    ctx = context(text)
    start = ctx.norm.rindex(word)  # the last one: the event the row is about
    return ctx.aspect(start, start + len(word))


# Present progressive, "right now", "just", a persistence, minutes ago: the event now (RF-SEIZURE).
NOW = [
    ("my boy is having a seizure on the kitchen floor", "seizure"),
    ("my wife is seizing right now what do i do", "seizing"),
    ("my dad just had a fit in the car", "fit"),
    ("she has a seizure disorder but this seizure wont stop", "seizure"),
    ("hes convulsing and he isnt waking up", "convulsing"),
    ("my grandson had a seizure five minutes ago", "seizure"),
    ("our daughter usually gets seizures at night but she is having one right now", "seizures"),
]
# A frequency, or the plural after a verb of having: a known, recurring history.
HABIT = [
    ("my daughter gets seizures sometimes", "seizures"),
    ("my son has had seizures since he was a baby", "seizures"),
    ("he gets a seizure every few months", "seizure"),
    ("i have seizures now and then", "seizures"),
    ("my mom had seizures for years", "seizures"),
    ("she usually has a seizure when she gets a fever", "seizure"),
]


@pytest.mark.parametrize("text,word", NOW)
def test_event_now(text, word):
    assert _aspect(text, word) == CURRENT


@pytest.mark.parametrize("text,word", HABIT)
def test_known_history(text, word):
    assert _aspect(text, word) == HABITUAL


@pytest.mark.parametrize("text", [
    "my son is having a seizure right now",
    "my brother is having a fit",  # a sibling is someone else, but with the writer now
    "my uncle just had a seizure and hes not answering me",
    "she just went stiff, her whole body was jerking and now shes not answering",
    "my daughter gets seizures sometimes but this one has gone on for ages and she wont stop shaking",
    "my husband has epilepsy and had a seizure",  # said plainly, no habit: the cautious reading
])
def test_caregiver_now_is_an_emergency(text):
    a = assess([text], strict=True)
    assert a.triage_level == "emergency" and "RF-SEIZURE" in a.rule_ids


@pytest.mark.parametrize("text", [
    "my daughter gets seizures sometimes, she takes keppra for them",
    "my son has had fits before, what is clonus",
    "i get seizures once or twice a year",
])
def test_habitual_history_is_not_an_emergency(text):
    """The policy is silent on a known history of seizures with none now: not RF-SEIZURE (not a seizure
    now), the more cautious of the other levels (routine, SEIZURE-HISTORY)."""
    a = assess([text], strict=True)
    assert a.triage_level == "routine" and "RF-SEIZURE" not in a.rule_ids and "SEIZURE-HISTORY" in a.rule_ids


@pytest.mark.parametrize("text", [
    "my uncle had seizures",
    "my cousin used to have fits",
    "my grandad had a seizure once, years back",
    "I had a seizure as a kid",
    "had a couple of febrile seizures as a toddler, none since",
])
def test_family_or_remote_history_is_not_an_emergency(text):
    a = assess([text], strict=True)
    assert a.triage_level != "emergency" and "RF-SEIZURE" not in a.rule_ids


def test_a_past_relative_breathing_now_is_not_history():
    """'just' makes a relative's past tense now: not that person's history (RF-BREATHING)."""
    assert "breathing_trouble" in extract("my grandpa just stopped breathing").present
    assert "breathing_trouble" not in extract("my grandpa had trouble breathing at the end").present


def test_the_brother_with_a_seizure_now_is_the_patient():
    a = assess(["my brother is having a seizure right now, he took tramadol earlier"], strict=True)
    assert [m.name for m in a.medications if m.status == "current"] == ["tramadol"]


@pytest.mark.parametrize("messages", [
    ["my daughter gets seizures sometimes", "oh no shes having one right now"],
    ["my husband has epilepsy", "another one is starting, what do i do"],
])
def test_the_known_kind_happening_now_later_is_an_emergency(messages):
    """A history first, then "one" happening now: the seizure the history names, now (RF-SEIZURE)."""
    a = assess(messages, strict=True)
    assert a.triage_level == "emergency" and "RF-SEIZURE" in a.rule_ids


@pytest.mark.parametrize("messages", [
    ["i get seizures now and then. im having one of those weeks"],
    ["my son gets seizures sometimes", "hes not having one now, hes playing"],
    ["my ms spasms come and go", "im having one now"],  # no seizure history: a spasm, not RF-SEIZURE
])
def test_having_one_is_not_a_seizure_without_the_history_or_when_denied(messages):
    assert "RF-SEIZURE" not in assess(messages, strict=True).rule_ids
