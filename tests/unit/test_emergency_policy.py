"""EmergencyPolicy on real Rasa trackers: it interrupts anything for a new emergency, and only then."""

from __future__ import annotations

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

# `domain` and `policy` are fixtures of tests/unit/conftest.py.


def tracker_with(domain: Domain, *turns, slots=None, loop=None) -> DialogueStateTracker:
    events = [ActionExecuted(ACTION_LISTEN_NAME)]
    if loop:
        events += [ActionExecuted(loop), ActiveLoop(loop), SlotSet("requested_slot", "phone_number"), ActionExecuted(ACTION_LISTEN_NAME)]
    for name, value in (slots or {}).items():
        events.append(SlotSet(name, value))
    for i, (text, intent) in enumerate(turns):
        events.append(UserUttered(text, {"name": intent, "confidence": 0.9}))
        if i < len(turns) - 1:
            events += [ActionExecuted("utter_greet"), ActionExecuted(ACTION_LISTEN_NAME)]
    return DialogueStateTracker.from_events("t", events, slots=domain.slots)


def predicted(policy, tracker, domain):
    prediction = policy.predict_action_probabilities(tracker, domain)
    if max(prediction.probabilities) == 0:
        return None, prediction
    return domain.action_names_or_texts[prediction.max_confidence_index], prediction


def test_new_emergency_predicts_triage_and_outranks_forms(policy, domain):
    tracker = tracker_with(
        domain, ("my face is drooping on one side and my speech is slurred", "report_symptom"), loop="booking_form"
    )
    action, prediction = predicted(policy, tracker, domain)
    assert action == "action_triage"
    # Marked as a no-user prediction with priority above the RulePolicy's (6): it beats the form.
    assert prediction.is_no_user_prediction and prediction.policy_priority > 6


def test_emergency_spread_over_two_messages(policy, domain):
    tracker = tracker_with(
        domain,
        ("I'm on Nardil and my new doctor gave me tramadoll for my back", "report_medication"),
        ("now I'm sweaty and my legs keep jerking", "report_symptom"),
    )
    assert predicted(policy, tracker, domain)[0] == "action_triage"


def test_announced_emergency_is_not_repeated(policy, domain):
    from bot.triage import assess

    text = "my face is drooping on one side and my speech is slurred"
    flags = [f.id for f in assess([text]).red_flags]
    tracker = tracker_with(domain, (text, "report_symptom"), slots={"red_flags": flags, "triage_level": "emergency"})
    assert predicted(policy, tracker, domain)[0] is None


def test_stated_emergency_intent_predicts_triage(policy, domain):
    tracker = tracker_with(domain, ("please help this is an emergency", "emergency"))
    assert predicted(policy, tracker, domain)[0] == "action_triage"


@pytest.mark.parametrize(
    "text, intent",
    [
        ("what is clonus", "education"),
        ("my ankle jerks a few beats when i stand up", "report_symptom"),
        ("i take baclofen 10mg", "report_medication"),
        ("hello", "greet"),
    ],
)
def test_no_emergency_means_the_policy_abstains(policy, domain, text, intent):
    action, prediction = predicted(policy, tracker_with(domain, (text, intent)), domain)
    assert action is None
    assert not prediction.is_no_user_prediction  # an abstention must never outrank the form


def test_after_an_emergency_announcement_the_assistant_listens(policy, domain):
    events = [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("i think im having a stroke", {"name": "emergency", "confidence": 0.95}),
        ActionExecuted("action_triage"),
        SlotSet("triage_level", "emergency"),
    ]
    tracker = DialogueStateTracker.from_events("t", events, slots=domain.slots)
    assert predicted(policy, tracker, domain)[0] == ACTION_LISTEN_NAME


# "help me now" names no emergency: since issue 10 the classifier's `emergency` alone raises nothing
# (tests/unit/test_stated_emergency.py has the table of both directions).
@pytest.mark.parametrize("text, expected", [("12", None), ("555 01", None), ("911", "action_triage"), ("help me now", None)])
def test_digits_alone_do_not_state_an_emergency(policy, domain, text, expected):
    assert predicted(policy, tracker_with(domain, (text, "emergency")), domain)[0] == expected
