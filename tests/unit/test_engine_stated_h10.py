"""Engine rules behind the NLU's emergency check (issue 10): stated emergencies it missed, everyday input it
read as one, and a request to see someone read as self-harm. My own phrasings; general rules, each under
its rule id."""

from __future__ import annotations

import pytest

import bot.triage as triage
from bot.triage import Assessor, assess, read_message, states_emergency


def rules(text: str):
    return assess([text], strict=True).rule_ids


# --- RF-UNRESPONSIVE: someone unconscious now, collapsed and not moving --------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "my husband collapsed and isnt moving",
        "she collapsed on the bathroom floor and is not responding",
        "dad keeled over and hes lying there limp",
        "my roommate is unconscious",
        "friend od'd and is unconscious",
        "hes out cold on the couch and i cant get him up",
        "she passed out and is still out cold",
        "hes not moving",
        "she isnt moving at all",
        "my brother took something and now he stopped moving",
    ],
)
def test_someone_unconscious_now_is_rf_unresponsive(text):
    assert "RF-UNRESPONSIVE" in rules(text)
    assert states_emergency(text)


@pytest.mark.parametrize(
    "text",
    [
        "i was out cold for 12 hours after the gabapentin",  # a past episode of sleep
        "he passed out last week after standing up fast",     # a past faint
        "my leg isnt moving like it used to",                 # a limb, not a person
        "she isnt moving well since the stroke",              # how someone moves
        "he isnt moving his left arm much",
        "i was unconscious for a few seconds years ago",
        "she collapsed and cant get up",                      # awake: not unresponsive (other rules may read it)
    ],
)
def test_not_someone_unconscious_now(text):
    assert "RF-UNRESPONSIVE" not in rules(text)


# --- RF-BREATHING: someone hardly breathing --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["passed out and barely breathing", "hes hardly breathing", "my baby is barely breathing and pale"],
)
def test_barely_breathing_is_rf_breathing_whatever_the_medicines(text):
    assert "RF-BREATHING" in rules(text)


def test_barely_breathing_denied_is_not():
    assert "RF-BREATHING" not in rules("no hes breathing fine, not barely breathing at all")


# --- RF-STATED-EMERGENCY: a general question about when to call, and phone numbers -------------------


@pytest.mark.parametrize(
    "text",
    [
        "at what point do i call 911",
        "at what point should someone call an ambulance for clonus",
        "in what cases do you need an ambulance for serotonin syndrome",
        "how do i know if i need to call 911",
        "my cell is 312 911 0000",
        "reach me at (773) 911.4040",
    ],
)
def test_not_a_stated_emergency(text):
    assert "RF-STATED-EMERGENCY" not in rules(text)
    assert not states_emergency(text)


@pytest.mark.parametrize(
    "text",
    [
        "should i call 911?",                           # unsure now: the cautious reading
        "at what point do i call 911, hes not breathing",
        "call 911",
        "911 please",
        "my cell is 312 555 0100, call 911 now",
    ],
)
def test_still_a_stated_emergency(text):
    assert states_emergency(text)


# --- RF-SELF-HARM: a request to see someone about the body is not self-harm ---------------------------


@pytest.mark.parametrize(
    "text",
    [
        "i want to see someone about my legs",
        "i want to see someone about my back",
        "id like to talk to a nurse about my baclofen dose",
        "i need to see a doctor about my left leg please",
        "i want to talk to someone about my meds",
    ],
)
def test_a_request_to_see_someone_about_the_body_is_not_self_harm(text):
    assert "RF-SELF-HARM" not in rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "i need to talk to someone, i want to end it all",
        "i want to talk to someone about my dark thoughts",
        "i want to see someone about how i keep wanting to disappear",
        "i want to see someone about my legs. honestly i dont want to be here anymore",
    ],
)
def test_a_request_to_see_someone_about_self_harm_still_is(text):
    assert "RF-SELF-HARM" in rules(text)


# --- read_message: the engine's reading of one message, for the NLU --------------------------------------


def test_read_message_reports_rules_signs_and_self_harm():
    r = read_message("my husband collapsed and isnt moving")
    assert r.emergency and r.stated and "RF-UNRESPONSIVE" in r.rule_ids and "unresponsive" in r.signs
    r = read_message("she fainted")
    assert not r.emergency and r.signs == frozenset({"loss_of_consciousness"})
    r = read_message("tuesday 9:30")
    assert not r.emergency and not r.signs and not r.self_harm and not r.rule_ids
    assert read_message("i tried to kill myself years ago").self_harm
    assert not read_message("i have never had thoughts of hurting myself").self_harm


def test_a_message_is_read_once_for_the_nlu_and_the_turn(monkeypatch):
    calls = []
    real = triage._read

    def counting(text, patient):
        calls.append(text)
        return real(text, patient)

    monkeypatch.setattr(triage, "_read", counting)
    text = "i have a fever of 39 and my legs keep jerking - h10 cache check"
    read_message(text)  # the NLU component
    conversation = Assessor(strict=True)
    conversation.add(text)  # the turn's Assessor
    assert calls == [text]
    # a correction edits what the conversation read; another reader of the same message is not affected
    conversation.add("sorry i meant i do NOT have a fever")
    assert "fever" not in conversation.assessment.symptoms
    assert "fever" in Assessor(strict=True).add(text).symptoms
