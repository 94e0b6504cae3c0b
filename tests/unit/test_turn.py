"""One assessment per turn (rasa_ext.turn) and the crisis mode that stays (issue 10)."""

from __future__ import annotations

import uuid

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.triage import Assessment, assess
from rasa_ext import turn

# `domain` and `policy` are fixtures of tests/unit/conftest.py.


class Conversation:
    """A real tracker fed the way the Rasa server feeds it: each message, then the seam's slot."""

    def __init__(self, domain: Domain, loop: str | None = None) -> None:
        self.domain = domain
        self.tracker = DialogueStateTracker.from_events(
            f"turn-{uuid.uuid4().hex[:8]}", [ActionExecuted(ACTION_LISTEN_NAME)], slots=domain.slots
        )
        if loop:
            for e in (ActionExecuted(loop), ActiveLoop(loop), SlotSet("requested_slot", "preferred_time"),
                      ActionExecuted(ACTION_LISTEN_NAME)):
                self.tracker.update(e, domain)

    def say(self, text: str, intent: str = "inform") -> dict:
        self.tracker.update(UserUttered(text, {"name": intent, "confidence": 0.9}), self.domain)
        value = turn.compute(self.tracker)
        self.tracker.update(SlotSet(turn.SLOT, value), self.domain)
        return value

    def bot(self, *events) -> None:
        for e in events:
            self.tracker.update(e, self.domain)


def predicted(policy, tracker, domain):
    p = policy.predict_action_probabilities(tracker, domain)
    return None if max(p.probabilities) == 0 else domain.action_names_or_texts[p.max_confidence_index]


def test_the_slot_is_the_assess_json_of_the_conversation(domain):
    c = Conversation(domain)
    c.say("I'm on Nardil")
    value = c.say("and the dentist gave me tramadol, also some xyloblaxin")
    expected = assess(["I'm on Nardil", "and the dentist gave me tramadol, also some xyloblaxin"])
    assert {k: value[k] for k in expected.to_dict()} == expected.to_dict()
    assert value["messages"] == 2 and value["crisis"] is False and value["stated_emergency"] is False
    assert Assessment.from_dict(value) == expected  # what the actions rebuild is what the engine gave


def test_each_turn_reads_only_the_new_message(domain):
    c = Conversation(domain)
    c.say("my ankle bounces when I stand")
    state = turn._cache[c.tracker.sender_id].assessor
    c.bot(ActionExecuted("utter_greet"), ActionExecuted(ACTION_LISTEN_NAME))
    c.say("I take sertraline")
    assert turn._cache[c.tracker.sender_id].assessor is state  # the same engine state, one message more
    assert len(state.messages) == 2


def test_a_tracker_whose_messages_changed_is_read_again(domain):
    c = Conversation(domain)
    c.say("I take sertraline")
    other = DialogueStateTracker.from_events(
        c.tracker.sender_id, [ActionExecuted(ACTION_LISTEN_NAME), UserUttered("hello")], slots=domain.slots
    )  # a new session of the same sender
    value = turn.compute(other)
    assert value["messages"] == 1 and value["medications"] == []


def test_a_stale_slot_is_not_trusted(domain):
    c = Conversation(domain)
    c.say("hello")
    c.tracker.update(UserUttered("my face is drooping on one side"), domain)  # no seam for this one
    assert turn.current(c.tracker)["triage_level"] == "emergency"


# ------------------------------------------------------------------------------ told at once


def test_an_urgent_finding_inside_a_form_is_told_before_the_next_question(policy, domain):
    c = Conversation(domain, loop="booking_form")
    c.say("is it the dantrium? my eyes have gone yellow", intent="education")
    assert predicted(policy, c.tracker, domain) == "action_triage"


def test_an_urgent_finding_outside_a_form_is_left_to_the_reply_then_told(policy, domain):
    """Outside forms the policy lets the reply be chosen; rasa_ext.turn tells the finding after it."""
    c = Conversation(domain)
    value = c.say("is it the dantrium? my eyes have gone yellow", intent="education")
    assert predicted(policy, c.tracker, domain) is None
    assert turn.unannounced(value, c.tracker, ("urgent", "emergency")) == ["RX-DANTROLENE-LIVER"]


# ------------------------------------------------------------------------------ crisis mode

CRISIS_OPENING = "everyone would be better off without me"


@pytest.mark.parametrize(
    "later, intent",
    [
        ("can I book an appointment for tuesday", "book_appointment"),
        ("what is clonus", "education"),
        ("ok", "affirm"),
        ("I'm not going to hurt myself", "deny"),
        ("sorry, I meant I'm not suicidal", "deny"),  # even an explicit correction does not end it
        ("bye", "goodbye"),
    ],
)
def test_crisis_mode_stays_for_every_later_reply(policy, domain, later, intent):
    c = Conversation(domain, loop="booking_form")
    c.say(CRISIS_OPENING, intent="out_of_scope")
    assert predicted(policy, c.tracker, domain) == "action_triage"  # first: the emergency reply with 988
    flags = [f["id"] for f in c.tracker.get_slot(turn.SLOT)["red_flags"]]
    c.bot(ActionExecuted("action_triage"), SlotSet("red_flags", flags), SlotSet("triage_level", "emergency"),
          ActiveLoop(None), ActionExecuted(ACTION_LISTEN_NAME))
    for _ in range(3):
        value = c.say(later, intent=intent)
        assert value["crisis"] is True
        assert predicted(policy, c.tracker, domain) == turn.CRISIS_RESPONSE
        c.bot(ActionExecuted(turn.CRISIS_RESPONSE))
        assert predicted(policy, c.tracker, domain) == ACTION_LISTEN_NAME  # nothing after it
        c.bot(ActionExecuted(ACTION_LISTEN_NAME))


def test_crisis_mode_carries_over_to_a_new_session(domain):
    c = Conversation(domain)
    c.say(CRISIS_OPENING)
    carried = c.tracker.get_slot(turn.SLOT)
    new_session = DialogueStateTracker.from_events(
        c.tracker.sender_id + "-s2", [SlotSet(turn.SLOT, carried), ActionExecuted(ACTION_LISTEN_NAME), UserUttered("hi")],
        slots=domain.slots,
    )
    assert turn.compute(new_session)["crisis"] is True


def test_a_new_disclosure_in_crisis_mode_gets_the_emergency_reply_again(policy, domain):
    c = Conversation(domain)
    c.say(CRISIS_OPENING)
    flags = [f["id"] for f in c.tracker.get_slot(turn.SLOT)["red_flags"]]
    c.bot(ActionExecuted("action_triage"), SlotSet("red_flags", flags), SlotSet("triage_level", "emergency"),
          ActionExecuted(ACTION_LISTEN_NAME))
    c.say("yeah. i have a lot of my pills saved up")
    assert predicted(policy, c.tracker, domain) == "action_triage"


def test_crisis_response_has_the_numbers_and_no_buttons(domain):
    from rasa_ext.nlg import ClinicResponseGenerator

    out = ClinicResponseGenerator(domain=domain).generate_from_slots(turn.CRISIS_RESPONSE, {}, "dev")
    assert "988" in out["text"] and "911" in out["text"]
    assert not out.get("buttons")


def test_a_rule_that_rises_to_emergency_is_a_new_emergency(policy, domain):
    """Outside test, 2026-12-02: "I take zoloft and my legs jerk" (SS-SYMPTOMS, urgent, told), then
    "he took demerol and is sweating a lot" (SS-SYMPTOMS at emergency level) got only the next
    question of the symptom form: the rule's id had been told, at a lower level."""
    c = Conversation(domain, loop="symptom_form")
    c.say("I take zoloft and my legs jerk", intent="report_symptom")
    c.bot(SlotSet("triage_level", "urgent"), SlotSet("red_flags", ["SS-SYMPTOMS"]), ActionExecuted(ACTION_LISTEN_NAME))
    value = c.say("he took demerol and is sweating a lot", intent="report_medication")
    assert "SS-SYMPTOMS" in turn.unannounced(value, c.tracker)
    assert predicted(policy, c.tracker, domain) == "action_triage"
    # Once told at emergency level, the same finding is not told again.
    c.bot(ActionExecuted("action_triage"), SlotSet("triage_level", "emergency"), ActionExecuted(ACTION_LISTEN_NAME))
    value = c.say("ok", intent="affirm")
    assert turn.unannounced(value, c.tracker) == []
