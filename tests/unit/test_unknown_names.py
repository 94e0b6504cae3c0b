"""The unknown-name detector (bot.medications._looks_like_medicine): a word that is neither English nor
a known medicine is said back when its place says it is a medicine, whatever the verb or phrasing
(issue 9). The names are invented for these tests; none is in any evaluation set."""

from __future__ import annotations

import pytest

from bot.medications import analyse

SAID_BACK = [
    ("quorblin for my sugar", "quorblin"),
    ("they switched me to travinex last week", "travinex"),
    ("i stopped vandoril on monday", "vandoril"),
    ("ran out of lumrexa two days ago", "lumrexa"),
    ("my doc upped my dextavia", "dextavia"),
    ("lumrexa makes me so dizzy", "lumrexa"),
    ("got a new prescription for xelpharin", "xelpharin"),
    ("a dose of zelmora every night", "zelmora"),
    ("travinex xr in the morning", "travinex"),
    ("zelmora twice a day and lexapro", "zelmora"),
    ("quit travinex cold turkey", "travinex"),
    ("tomo vandoril para la presion", "vandoril"),
    ("me recetaron lumrexa ayer", "lumrexa"),
    ("missed my zelmora this morning", "zelmora"),
    ("xelpharin helps with the pain", "xelpharin"),
    ("does zelmora interact with tramadol", "zelmora"),
    ("Lumrexa gave me a rash", "lumrexa"),
    # a question about it, a schedule, a dose without its unit, naming words, a switch
    ("is pexdorin safe with prozac", "pexdorin"),
    ("can pexdorin cause clonus", "pexdorin"),
    ("what about pexdorin?", "pexdorin"),
    ("anyone heard of pexdorin", "pexdorin"),
    ("pexdorin at night", "pexdorin"),
    ("pexdorin every 6 hours", "pexdorin"),
    ("she gets Pexdorin every six months", "pexdorin"),
    ("PEXDORIN 10", "pexdorin"),
    ("brand name pexdorin", "pexdorin"),
    ("50mg of pexdorin", "pexdorin"),
    ("the new one, pexdorin, makes me tired", "pexdorin"),
    ("switched from lexapro to pexdorin", "pexdorin"),
]


@pytest.mark.parametrize("text, name", SAID_BACK)
def test_an_unknown_name_in_a_medicine_place_is_said_back(text, name):
    assert name in [u.lower() for u in analyse(text).unrecognised]


@pytest.mark.parametrize("text", [
    "I'm on vacation in cancun next week",
    "my cat chloe is sick",
    "took a walk with brandon",
    "lol idk tbh",
    "tomo sertralina 50 mg y me tiembla la pierna",
    "empecé a tomar sertralina hace 3 días",
    "missed my pump refill appt",
    "lkjlkj 8888",
])
def test_ordinary_words_and_names_are_not_said_back(text):
    assert analyse(text).unrecognised == []
