"""Lay forms the engine missed (issue 9), each a general rule with my own phrasings: a comparative of tone
or jerks with a short span (CL-SUDDEN-WORSE), vision loss with words between (RF-STROKE), "lasts a long
time" (CL-SUSTAINED), not leaving the house (RX-SEDATION's "disrupts daily life"), a stranger's past
seizure (someone else), and a later "im asking for me" (whom the conversation is about)."""

from __future__ import annotations

import pytest

from bot.symptoms import extract
from bot.triage import assess


@pytest.mark.parametrize("text", [
    "over the past day my arms are much tighter than normal",
    "since this morning his legs are twitchier and more stiff",
])
def test_a_comparative_with_a_short_span_is_a_sudden_worsening(text):
    assert "sudden_worse" in extract(text).present


def test_a_comparative_alone_is_worse_not_sudden():
    found = extract("her legs are stiffer than they used to be").present
    assert "worse" in found and "sudden_worse" not in found


def test_vision_gone_dark_with_words_between_is_stroke():
    a = assess(["the sight in my left eye suddenly went dark"], strict=True)
    assert a.triage_level == "emergency" and "RF-STROKE" in a.rule_ids


def test_lasts_a_long_time_is_sustained():
    assert "clonus_sustained" in extract("the jerking in my calf lasts a really long time").present


def test_staying_in_is_daily_life():
    a = assess(["since he started tizanidine my husband is so drowsy he cant leave the house"], strict=True)
    assert a.triage_level == "routine" and "RX-SEDATION" in a.rule_ids


@pytest.mark.parametrize("text", [
    "i watched a man have a seizure on the train two days ago, what should i have done",
    "some lady at church had a fit on sunday",
])
def test_a_strangers_past_seizure_is_not_the_patients(text):
    assert "RF-SEIZURE" not in assess([text], strict=True).rule_ids


def test_a_strangers_seizure_now_still_is_an_emergency():
    assert "RF-SEIZURE" in assess(["a woman in the store is having a seizure right now"], strict=True).rule_ids


def test_asking_for_me_later_makes_the_writer_the_patient():
    a = assess(["my son has had fits since he was small, his doctor follows it",
                "but this is about me: my calf does 2 quick beats when i stretch and stops"], strict=True)
    assert a.triage_level == "self_care" and "SEIZURE-HISTORY" not in a.rule_ids


@pytest.mark.parametrize("text,asked,own", [
    ("would a zpack interact with my lexapro if the dentist gives me one", "azithromycin", "escitalopram"),
    ("does ibuprofen interact with my sertraline", "ibuprofen", "sertraline"),
])
def test_a_medicine_asked_about_interacting_is_not_taken(text, asked, own):
    from bot.medications import analyse

    status = {m.name: m.status for m in analyse(text).mentions}
    assert status[asked] == "hypothetical" and status[own] == "current"
