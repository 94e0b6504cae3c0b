"""What an outside tester found on 2026-12-04 (392 conversations typed without sight of the code), as
general mechanisms tested in my own phrasings. Each case fails on the commit before the fix."""

from __future__ import annotations

import pytest

from bot.text_utils import clean
from bot.triage import PIECE_CHARS, assess, pieces


def level(*messages: str) -> str:
    return assess(list(messages), strict=True).triage_level


# ------------------------------------------------------------------ text written in look-alike characters
@pytest.mark.parametrize(
    "text, read",
    [
        ("ｍｙ ｓｏｎ ｉｓ ｎｏｔ ｂｒｅａｔｈｉｎｇ", "my son is not breathing"),
        ("i w4nna h4ng mys3lf", "i wanna hang myself"),
        ("he had a s3izur3", "he had a seizure"),
    ],
)
def test_look_alike_letters_and_digits_are_read_as_letters(text, read):
    assert clean(text) == read
    assert len(clean(text)) == len(text)  # offsets into the person's text are kept


@pytest.mark.parametrize("text", ["take 10mg 3x a day with b12", "call me at 312 555 0100", "5-htp 100mg", "room 4a"])
def test_numbers_doses_and_codes_are_not_turned_into_letters(text):
    assert clean(text) == text


def test_a_full_width_emergency_is_an_emergency():
    assert level("ｍｙ ｗｉｆｅ ｉｓｎｔ ｂｒｅａｔｈｉｎｇ") == "emergency"


# ------------------------------------------------------------------ long messages
def test_an_emergency_at_the_end_of_a_very_long_message_is_read():
    filler = "the weather was fine and we went for a walk by the lake. " * 600  # ~35,000 characters
    assert level(filler + "now my dad has collapsed and is not breathing") == "emergency"


def test_pieces_keep_every_character_and_respect_the_size():
    text = ("word " * 997 + "end. ") * 7
    parts = pieces(text)
    assert "".join(parts) == text
    assert all(len(p) <= PIECE_CHARS for p in parts)
    assert pieces("short") == ["short"]
    assert "".join(pieces("x" * 5000)) == "x" * 5000  # no space at all: cut at the size


# ------------------------------------------------------------------ self-harm: method, means, shorthand
@pytest.mark.parametrize(
    "text",
    [
        "i keep thinking about hanging myself in the garage",
        "theres a rope in the shed and i think about using it on myself",
        "sometimes i picture steering the car into a bridge on my way home",
        "honestly i just wanna kms",
        "i see no reason to keep going",
        "planning to swallow the whole bottle of my trazodone tonight",
    ],
)
def test_self_harm_said_with_a_method_or_in_shorthand_is_an_emergency(text):
    assert level(text) == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "my teacher is going to kill me if this is late again",
        "these stairs are gonna kill me lol",
        "i drove 12 kms to get here",
        "we watched a movie where a guy drove his car into a lake",
    ],
)
def test_idioms_and_other_peoples_acts_are_not_self_harm(text):
    assert "RF-SELF-HARM" not in assess([text], strict=True).rule_ids


def test_self_harm_once_disclosed_is_not_taken_back_by_a_correction():
    assert level("i dont want to be alive anymore", "sorry, i meant i do NOT feel that way, forget it") == "emergency"
    # an ordinary correction still lowers the level (policy: an explicit correction)
    assert level("i have a fever of 39", "sorry, i meant i do NOT have a fever") != "emergency"


# ------------------------------------------------------------------ a question about a sign is not a report of it
@pytest.mark.parametrize(
    "text", ["what do seizures look like in babies?", "how long does a seizure normally last", "does a seizure hurt?"]
)
def test_a_question_about_what_a_sign_is_like_is_not_an_emergency(text):
    assert level(text) != "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "how long do seizures last, my daughter has been shaking for 5 minutes and wont answer",
        "does it hurt when he has a seizure? hes having one right now",
    ],
)
def test_a_report_after_such_a_question_is_still_read(text):
    assert level(text) == "emergency"
