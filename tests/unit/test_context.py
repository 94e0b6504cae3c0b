"""bot.context: one reading of negation, hypothetical, historical and experiencer for symptoms AND
medicines (issue 9). Each row is a lay phrasing; the tables are hand-written, not read from the code."""

from __future__ import annotations

import pytest

from bot.context import SELF, patient_of
from bot.medications import analyse
from bot.symptoms import extract

# (text, feature) the person does NOT have now
NOT_PRESENT = [
    ("i dont have any sweating or fever or twitching", "muscle_jerks"),
    ("i dont have any sweating or fever or twitching", "diaphoresis"),
    ("what if I got a fever", "fever"),
    ("would it be bad if I started sweating a lot", "diaphoresis"),
    ("my uncle had a stroke", "condition_stroke"),
    ("I had a seizure years ago", "seizure"),
    ("used to get spasms when I was a teen", "muscle_jerks"),
    ("zero thoughts of hurting myself", "self_harm"),
    ("no thoughts of suicide or self harm", "self_harm"),
    ("I would never hurt myself", "self_harm"),
    ("denies any fever", "fever"),
    ("free of seizures since 2015", "seizure"),
    ("no face droop, no slurred speech", "speech_problem"),
    ("nothing like a seizure", "seizure"),
]
# (text, feature) the person has now, although a context word is near
PRESENT = [
    ("no fever but my legs keep jerking on their own", "spontaneous_clonus"),
    ("I'm not sure why, but I'm sweating buckets", "diaphoresis"),
    ("my husband had a seizure this morning", "seizure"),
    ("I wish I could go to sleep and not wake up", "self_harm"),
    ("my foot wont stop bouncing", "spontaneous_clonus"),
    ("I can't breathe", "breathing_trouble"),
    ("not that I'd do anything, but I've been saving up my pills", "self_harm"),
]


@pytest.mark.parametrize("text, feature", NOT_PRESENT)
def test_not_present(text, feature):
    assert feature not in extract(text).present


@pytest.mark.parametrize("text, feature", PRESENT)
def test_present(text, feature):
    assert feature in extract(text).present


# The same context words, read for medicines.
MEDICINES = [
    ("hypothetically, if I took tramadol with my Effexor", [("tramadol", "hypothetical"), ("venlafaxine", "current")]),
    ("can I take tramadol with zoloft?", [("tramadol", "hypothetical"), ("sertraline", "hypothetical")]),
    ("would it be bad if I took molly while on lexapro", [("mdma", "hypothetical"), ("escitalopram", "current")]),
    ("I used to take prozac, now lexapro", [("fluoxetine", "past"), ("escitalopram", "current")]),
    ("I tried paxil years ago", [("paroxetine", "past")]),
    ("finished the course of cipro last week", [("ciprofloxacin", "past")]),
    ("my old meds were prozac and zoloft", [("fluoxetine", "past"), ("sertraline", "past")]),
    ("nothing except lexapro", [("escitalopram", "current")]),
    ("i dont take anything except baclofen", [("baclofen", "current")]),
    ("started zoloft 2 years ago", [("sertraline", "current")]),
    ("my wife takes zoloft, im on nothing", [("sertraline", "other")]),
    ("it runs in the family, my dad got serotonin syndrome from demerol", [("meperidine", "other")]),
    ("maxalt didnt work so they switched me to relpax", [("rizatriptan", "past"), ("eletriptan", "current")]),
]


@pytest.mark.parametrize("text, expected", MEDICINES)
def test_medicine_status(text, expected):
    assert [(m.name, m.status) for m in analyse(text).mentions] == expected


@pytest.mark.parametrize(
    "messages, relation",
    [
        (["my husband started tramadol, he is on zoloft"], "husband"),
        (["they gave my mom zyvox in the hospital"], "mom"),
        (["hello", "I'm worried about my dad, he keeps twitching"], "dad"),
        (["I take zoloft", "my mom takes prozac too"], None),
        (["my uncle had a stroke, it runs in the family"], None),
        (["my sister takes effexor"], None),
        (["found my neighbour on her kitchen floor"], "neighbour"),
    ],
)
def test_patient_of(messages, relation):
    assert patient_of(messages).relation == relation


def test_the_writer_is_the_default_patient():
    assert patient_of(["hello", "what is clonus?"]) == SELF
