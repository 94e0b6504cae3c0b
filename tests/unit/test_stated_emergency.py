"""The emergency reply only for emergencies, and always for them (issue 10).

The NLU intent never decides alone, in either direction: every row below is given to EmergencyPolicy
with the WRONG intent (`emergency` for the everyday messages, `goodbye`/`nlu_fallback`/`inform` for the
real emergencies), inside a form and outside, and the triage engine's answer must win.
"""

from __future__ import annotations

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.triage import assess, states_emergency
from rasa_ext import failsafe, turn
from rasa_ext.emergency_policy import EmergencyPolicy

# Everyday input the outside testers saw answered with the emergency message, and neighbours of it.
NOT_EMERGENCIES = [
    "monday at 2:15",                       # a weekday and a time
    "jan 14 9am",                           # a month, a day, an hour
    "thursday 4:45pm",
    "december 3rd at 10",
    "the 22nd at noon",
    "5 sec maybe",                          # a count
    "about 20 seconds",
    "3 beats",
    "my number is (773) 555-0199",          # phone numbers
    "sorry typo, it's 773 555 0142",
    "call me on 312-911-4567",              # a phone number with 911 inside it
    "asdfgh 4444",                          # gibberish
    "qwpoeiru",
    "HELP",                                 # a bare keyword
    "help!!",
    "i need help booking",
    "follow up after my stroke",            # a visit reason
    "post-stroke checkup",
    "is clonus a kind of seizure?",         # education questions
    "what's the difference between clonus and a seizure",
    "can serotonin syndrome cause clonus?",
    "what is serotonin syndrome",
    "when should I call 911 for clonus?",
    "it's not an emergency",                # said not to be one
    "no emergency, just a question about baclofen",
    "I don't need an ambulance",
    "my wife isn't answering her phone",    # not answering a phone is not being unresponsive
    "you're not answering my question",
]

# Stated emergencies: always the emergency reply, whatever the classifier said.
EMERGENCIES = [
    "send an ambulance",
    "pls call an ambulance",
    "call 911",
    "911",
    "can u call 911 for me",
    "this is an emergency",
    "EMERGENCY",
    "he is not breathing",
    "my son stopped breathing",
    "she's unresponsive",
    "my mom won't wake up",
    "hes not answering me, i shook him",
    "she went stiff and was shaking all over and now shes not answering me",
    "he's having a seizure right now",
    "if it doesnt get better id honestly rather not be alive",  # a conditional wish to be dead (RF-SELF-HARM)
    "got a lot of my pills saved up",
]


@pytest.mark.parametrize("text", NOT_EMERGENCIES)
def test_everyday_input_states_no_emergency(text):
    assert not states_emergency(text)
    assert assess([text]).triage_level != "emergency"


@pytest.mark.parametrize("text", EMERGENCIES)
def test_stated_emergency_is_an_emergency_rule(text):
    assert states_emergency(text)
    a = assess([text])
    assert a.triage_level == "emergency"
    assert any(f.level == "emergency" for f in a.red_flags)  # a rule id, not the classifier


def test_the_stated_emergency_rules_carry_their_ids():
    assert [f.id for f in assess(["please send an ambulance"]).red_flags] == ["RF-STATED-EMERGENCY"]
    assert "RF-UNRESPONSIVE" in [f.id for f in assess(["my husband is unresponsive"]).red_flags]
    assert "RF-BREATHING" in [f.id for f in assess(["he's not breathing"]).red_flags]


# ------------------------------------------------------------------------------ the policy, on trackers


# `domain` and `policy` are fixtures of tests/unit/conftest.py.


def tracker(domain: Domain, text: str, intent: str, loop: str | None, sender: str) -> DialogueStateTracker:
    events = [ActionExecuted(ACTION_LISTEN_NAME)]
    if loop:
        events += [ActionExecuted(loop), ActiveLoop(loop), SlotSet("requested_slot", "preferred_time"),
                   ActionExecuted(ACTION_LISTEN_NAME)]
    events.append(UserUttered(text, {"name": intent, "confidence": 0.99}))
    return DialogueStateTracker.from_events(sender, events, slots=domain.slots)


def prediction(policy: EmergencyPolicy, t: DialogueStateTracker, domain: Domain):
    p = policy.predict_action_probabilities(t, domain)
    return None if max(p.probabilities) == 0 else domain.action_names_or_texts[p.max_confidence_index]


@pytest.mark.parametrize("loop", [None, "booking_form", "symptom_form"])
@pytest.mark.parametrize("text", NOT_EMERGENCIES)
def test_classifier_saying_emergency_raises_nothing(policy, domain, text, loop):
    assert prediction(policy, tracker(domain, text, "emergency", loop, f"no-{loop}-{text}"), domain) is None


@pytest.mark.parametrize("loop", [None, "booking_form", "symptom_form"])
@pytest.mark.parametrize("intent", ["goodbye", "nlu_fallback", "book_appointment"])
@pytest.mark.parametrize("text", EMERGENCIES)
def test_classifier_missing_it_still_gets_the_emergency_reply(policy, domain, text, intent, loop):
    assert prediction(policy, tracker(domain, text, intent, loop, f"yes-{loop}-{intent}-{text}"), domain) == "action_triage"


@pytest.mark.parametrize("text", EMERGENCIES)
def test_the_fail_safe_path_agrees(text):
    """The Rasa server's own answer (action server down) uses the same engine decision."""
    messages = failsafe.failsafe_messages(text)
    assert messages[0]["custom"].get("emergency") is True and "911" in messages[0]["text"]


@pytest.mark.parametrize("text", NOT_EMERGENCIES)
def test_the_fail_safe_path_raises_no_alarm(text):
    assert not any(m["custom"].get("emergency") for m in failsafe.failsafe_messages(text))


def test_a_repeated_stated_emergency_is_told_again(policy, domain):
    text = "call an ambulance"
    flags = [f.id for f in assess([text]).red_flags]
    events = [ActionExecuted(ACTION_LISTEN_NAME), UserUttered(text, {"name": "emergency"}),
              ActionExecuted("action_triage"), SlotSet("red_flags", flags), SlotSet("triage_level", "emergency"),
              ActionExecuted(ACTION_LISTEN_NAME), UserUttered("where is the ambulance, he's still not breathing",
                                                               {"name": "goodbye"})]
    t = DialogueStateTracker.from_events("repeat-stated", events, slots=domain.slots)
    assert turn.current(t)["stated_emergency"]
    assert prediction(policy, t, domain) == "action_triage"


# Someone else who is not breathing, blue or cannot be woken, said after the writer spoke of
# themselves (outside test, 2026-12-02: "I take nardil" then "my husband isnt breathing" got
# self_care; the same message alone got the emergency). A relation's past stays past.
@pytest.mark.parametrize("conversation", [
    ["I take nardil", "my husband isnt breathing"],
    ["i have symptoms", "my husband isnt breathing"],
    ["im on zoloft for anxiety", "wait my dad wont wake up"],
    ["i take prozac", "my sons lips are going blue"],
])
def test_someone_else_in_danger_now_is_an_emergency_whoever_spoke_first(conversation):
    result = assess(conversation)
    assert result.triage_level == "emergency"


@pytest.mark.parametrize("conversation", [
    ["i take zoloft", "my grandpa had trouble breathing at the end, he had copd"],
    ["my mom was unresponsive for a bit after her surgery last year"],
    ["i take zoloft", "what if my son stopped breathing"],
    ["i take zoloft", "my wife is fine, she is breathing ok"],
])
def test_a_relations_past_or_a_what_if_is_not_an_emergency(conversation):
    assert assess(conversation).triage_level != "emergency"
