"""Issue 10, forms that listen and offers that can be taken: the validation actions and the offer
action with real rasa_sdk Trackers and CollectingDispatchers, and the bot/ helpers behind them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.booking import ValidateBookingForm
from actions.common import dispatch_assessment
from actions.offers import ActionTakeOffer
from actions.symptoms import ActionStartSymptomIntake, ValidateSymptomForm
from bot.booking import booking_answers, parse_name
from bot.intake import answers, is_plain_answer
from bot.settings import clinic
from bot.triage import assess
from tests.action_helpers import domain, make_tracker, responses, run, slot_values, texts, user_event

FULL_BOOKING = {
    "patient_name": "Frank Moretti",
    "phone_number": "+13125550155",
    "preferred_time": "2030-01-10T17:00:00-06:00",
    "visit_reason": "checkup",
}


def form_turn(action, form, text, intent="out_of_scope", confidence=0.9, requested=None, slots=None, earlier=(), slot_events=()):
    """One turn of a form: the validation action as Rasa calls it after the person's message."""
    events = [{"event": "slot", "name": name, "value": value} for name, value in slot_events]
    for message in earlier:
        events += [{"event": "action", "name": "action_listen"}, user_event(message, "report_symptom")]
    tracker = make_tracker(
        slots={**(slots or {}), "requested_slot": requested}, active_loop=form, events=events + [{"event": "action", "name": "action_listen"}]
    )
    message = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    tracker.events.append({"event": "user", "text": text, "parse_data": message})
    tracker.latest_message = message
    return run(action, tracker)


# --- the symptom intake asks only what is missing ----------------------------------------------


def test_symptom_intake_prefills_what_the_first_message_said():
    _, events = run(
        ActionStartSymptomIntake(), make_tracker(["been on prozac 3 wks. my foot shakes when i flex it up, like 8-10 times"])
    )
    slots = slot_values(events)
    assert slots["symptom_duration"] == "like 8-10 times"
    assert slots["symptom_trigger"] == "when i flex it up"
    assert slots["current_medicines"] == "fluoxetine"
    assert slots.get("symptom_side") is None and slots.get("other_symptoms") is None  # still to ask


def test_symptom_intake_prefills_side_and_no_medicines_and_a_denied_fever():
    _, events = run(
        ActionStartSymptomIntake(),
        make_tracker(["my right ankle bounces when i go down stairs, no meds", "I DON'T have a fever"]),
    )
    slots = slot_values(events)
    assert slots["symptom_side"] == "right"
    assert slots["current_medicines"] == "none"
    assert slots["other_symptoms"] == "no fever"


def test_an_answer_to_another_question_given_in_passing_is_kept():
    _, events = form_turn(
        ValidateSymptomForm(),
        "symptom_form",
        "oh forgot to say my doc bumped my zoloft from 50 to 100 on friday. the twitching is random, few seconds each time",
        intent="report_medication",
        requested="symptom_duration",
        slots={"symptom_description": "my calf muscles have been twitching a lot"},
    )
    slots = slot_values(events)
    assert slots["symptom_duration"].startswith("oh forgot to say")
    assert slots["symptom_trigger"] == "random"


@pytest.mark.parametrize("text", ["nothing sets it off", "its random", "it's random", "nothing", "idk", "nothing at all"])
@pytest.mark.parametrize("intent", ["cancel", "goodbye", "deny"])
def test_plain_answers_are_answers_not_cancellations(text, intent):
    _, events = form_turn(ValidateSymptomForm(), "symptom_form", text, intent=intent, confidence=0.99, requested="symptom_trigger")
    assert slot_values(events).get("symptom_trigger") == text


def test_a_real_cancellation_still_stops_the_form():
    _, events = form_turn(ValidateSymptomForm(), "symptom_form", "stop asking me questions", intent="cancel", confidence=0.99, requested="symptom_trigger")
    assert "symptom_trigger" not in slot_values(events)


# --- the booking form ----------------------------------------------------------------------------


def test_booking_prefills_name_time_and_reason_from_the_first_message_and_asks_only_the_phone():
    _, events = form_turn(
        ValidateBookingForm(),
        "booking_form",
        "hi can i book in for my ankle clonus, next monday 10am works, name is Jamie Ortiz",
        intent="book_appointment",
        requested=None,
    )
    slots = slot_values(events)
    assert slots["patient_name"] == "Jamie Ortiz"
    when = datetime.fromisoformat(slots["preferred_time"])
    assert when.weekday() == 0 and when.hour == 10
    assert slots["visit_reason"] == "my ankle clonus"
    assert "phone_number" not in slots


def test_booking_prefills_a_phone_number_said_earlier_in_the_conversation():
    _, events = form_turn(
        ValidateBookingForm(), "booking_form", "book appointment", intent="book_appointment", earlier=["312-555-0166"]
    )
    assert slot_values(events)["phone_number"] == "+13125550166"


@pytest.mark.parametrize(
    "reason",
    ["his clonus got worse after his stroke", "botox consult", "ankle clonus check", "post stroke follow up", "tremor and clonus in right arm"],
)
def test_the_visit_reason_is_free_text_even_when_it_sounds_like_a_question_topic(reason):
    dispatcher, events = form_turn(
        ValidateBookingForm(), "booking_form", reason, intent="education", confidence=0.97, requested="visit_reason", slots=FULL_BOOKING | {"visit_reason": None}
    )
    assert slot_values(events)["visit_reason"] == reason
    assert not dispatcher.messages


@pytest.mark.parametrize(
    "text, field, value",
    [
        ("no the phone number is wrong", "phone_number", None),
        ("the phone is wrong, it's 312 555 0199", "phone_number", "+13125550199"),
        ("no wait wrong number, its 312-555-0177", "phone_number", "+13125550177"),
        ("no, the name should be Frank Moretti not checkup", "patient_name", "Frank Moretti"),
        ("name should be Frank Moretti", "patient_name", "Frank Moretti"),
        ("the reason is wrong", "visit_reason", None),
    ],
)
def test_a_correction_at_the_read_back_changes_that_field_only(text, field, value):
    slots = FULL_BOOKING | {"patient_name": "Checkup"}
    dispatcher, events = form_turn(
        ValidateBookingForm(), "booking_form", text, intent="deny", confidence=0.95, requested="booking_confirmed", slots=slots
    )
    changed = slot_values(events)
    assert changed[field] == value
    assert changed["booking_confirmed"] is None
    for other in set(FULL_BOOKING) - {field}:
        assert other not in changed or changed[other] == slots[other]
    assert not dispatcher.messages  # no "that doesn't look like ..." for a field it only says is wrong


def test_a_yes_that_names_a_field_is_a_yes():
    _, events = form_turn(
        ValidateBookingForm(), "booking_form", "yes that's my number", intent="affirm", confidence=0.95,
        requested="booking_confirmed", slots=FULL_BOOKING,
    )
    assert "phone_number" not in slot_values(events)


@pytest.mark.parametrize("text, intent, expected", [
    ("yes, book it", "book_appointment", True),
    ("yep thats right", "out_of_scope", True),
    ("looks good thanks", "thankyou", True),
    ("nope", "cancel", False),
])
def test_a_plain_yes_or_no_at_the_read_back_is_read_whatever_the_intent(text, intent, expected):
    _, events = form_turn(
        ValidateBookingForm(), "booking_form", text, intent=intent, confidence=0.7, requested="booking_confirmed", slots=FULL_BOOKING,
    )
    changed = slot_values(events)
    if expected:
        assert changed["booking_confirmed"] is True
    else:
        assert changed.get("booking_confirmed") is None and changed.get("booking_change") == "ask"


@pytest.mark.parametrize("text, expected", [
    ("yes, book it", True), ("Yes please", True), ("ok 👍", True), ("correct!", True), ("y", True),
    ("no", False), ("nope thats wrong", False), ("n", False),
    ("no the phone is wrong", None), ("yes but change the time", None), ("is it?", None), ("", None), (None, None),
])
def test_yes_or_no(text, expected):
    from bot.text_utils import yes_or_no

    assert yes_or_no(text) is expected


def test_a_new_time_without_a_day_at_the_read_back_keeps_the_day():
    friday = "2030-01-11T10:00:00-06:00"
    _, events = form_turn(
        ValidateBookingForm(), "booking_form", "can we make it 10:30 instead", requested="booking_confirmed",
        slots=FULL_BOOKING | {"preferred_time": friday}, slot_events=[("preferred_time", friday)],
    )
    changed = slot_values(events)
    assert changed["booking_confirmed"] is None
    assert datetime.fromisoformat(changed["preferred_time"]) == datetime(2030, 1, 11, 10, 30, tzinfo=ZoneInfo(clinic().timezone))


def test_a_phone_correction_typed_at_the_time_question_replaces_the_phone_and_is_not_a_bad_time():
    dispatcher, events = form_turn(
        ValidateBookingForm(), "booking_form", "no wait wrong number, its 312-555-0177",
        requested="preferred_time", slots={"patient_name": "Frank Moretti", "phone_number": "+13125550155"},
    )
    assert slot_values(events)["phone_number"] == "+13125550177"
    assert "utter_wrong_preferred_time" not in responses(dispatcher)


@pytest.mark.parametrize("text", ["tuesday 9:30", "dec 8 10am", "friday 3:30pm", "this friday at 10am", "next monday at 9am"])
def test_common_times_are_taken_at_the_time_question(text, monkeypatch):
    # A Monday morning: "this friday at 10am" said on a Friday afternoon is rightly refused as past,
    # so the test must not depend on the day it runs.
    import bot.booking

    monkeypatch.setattr(bot.booking, "now_at", lambda tz: datetime(2026, 11, 30, 8, 0, tzinfo=tz))
    dispatcher, events = form_turn(
        ValidateBookingForm(), "booking_form", text, intent="emergency", confidence=0.9, requested="preferred_time",
        slots={"patient_name": "Ana Silva", "phone_number": "+13125550181"},
    )
    value = slot_values(events).get("preferred_time")
    assert value and datetime.fromisoformat(value).tzinfo is not None, (text, dispatcher.messages)


def test_a_rejected_time_prints_the_opening_hours_once():
    dispatcher, events = form_turn(
        ValidateBookingForm(), "booking_form", "saturday morning?", requested="preferred_time",
        slots={"patient_name": "Aisha Khan", "phone_number": "+17085550145"},
    )
    assert slot_values(events)["preferred_time"] is None
    assert responses(dispatcher) == ["utter_wrong_preferred_time"]
    wrong = domain()["responses"]["utter_wrong_preferred_time"][0]["text"]
    ask = domain()["responses"]["utter_ask_preferred_time"][0]["text"]
    assert "{clinic_hours}" not in wrong and "{clinic_hours}" in ask  # the re-ask that follows has them


# --- offers --------------------------------------------------------------------------------------


def after_bot(bot_events, text, intent="affirm"):
    events = [{"event": "action", "name": "action_listen"}, user_event("earlier", "greet")] + bot_events
    events += [{"event": "action", "name": "action_listen"}, user_event(text, intent)]
    return make_tracker(events=events)


def education(topic):
    return {
        "event": "bot",
        "text": "...",
        "data": {"buttons": [{"title": "Book an appointment", "payload": "/book_appointment"}, {"title": "Talk to the clinic", "payload": "/request_human"}]},
        "metadata": {"utter_action": f"utter_education/{topic}"},
    }


GREET = {
    "event": "bot",
    "text": "Hello! ...",
    "data": {"buttons": [{"title": "I have symptoms", "payload": "/report_symptom"}, {"title": "What is clonus?", "payload": "/education/what_is_clonus"}, {"title": "Book an appointment", "payload": "/book_appointment"}]},
    "metadata": {"utter_action": "utter_greet"},
}


@pytest.mark.parametrize("text", ["yes", "sure", "yes pls", "sure thing"])
def test_yes_after_an_education_offer_gives_what_was_offered(text):
    dispatcher, events = run(ActionTakeOffer(), after_bot([education("what_is_clonus")], text))
    assert responses(dispatcher) == ["utter_education/causes"]


def test_the_options_own_words_choose_that_option():
    dispatcher, _ = run(ActionTakeOffer(), after_bot([education("what_is_clonus")], "how doctors check for it", intent="deny"))
    assert responses(dispatcher) == ["utter_education/diagnosis"]


def test_yes_to_do_you_want_to_book_starts_the_booking_form():
    _, events = run(ActionTakeOffer(), after_bot([education("when_to_worry")], "sure"))
    assert {"event": "followup", "name": "booking_form"} in [{k: e.get(k) for k in ("event", "name")} for e in events]


def test_yes_to_check_my_medicines_asks_for_them():
    dispatcher, _ = run(ActionTakeOffer(), after_bot([education("serotonin_syndrome")], "yes please"))
    assert responses(dispatcher) == ["utter_ask_current_medicines"]


def test_a_typed_button_title_acts_as_the_button():
    dispatcher, events = run(ActionTakeOffer(), after_bot([GREET], "I have symptoms", intent="affirm"))
    assert responses(dispatcher) == ["utter_start_symptom_intake"]
    assert events[-1]["event"] == "followup" and events[-1]["name"] == "symptom_form"
    assert slot_values(events).get("symptom_description") is None  # the title describes nothing


@pytest.mark.parametrize("text", ["😭😭😭", "🦵⚡️⚡️", "...", "?"])
def test_emoji_or_punctuation_only_gets_the_menu(text):
    dispatcher, _ = run(ActionTakeOffer(), after_bot([GREET], text, intent="deny"))
    assert responses(dispatcher) == ["utter_menu"]
    assert domain()["responses"]["utter_menu"][0]["buttons"]


def test_no_to_an_offer_is_not_a_dead_end():
    dispatcher, _ = run(ActionTakeOffer(), after_bot([education("what_is_clonus")], "no thanks", intent="deny"))
    assert responses(dispatcher) == ["utter_anything_else"]
    assert domain()["responses"]["utter_anything_else"][0]["buttons"]


def test_wordless_input_is_nlu_fallback_whatever_the_classifier_said():
    from rasa.shared.nlu.training_data.message import Message

    from rasa_ext.wordless_input import WordlessInputClassifier

    messages = [Message(data={"text": t, "intent": {"name": "goodbye", "confidence": 0.8}}) for t in ("😭😭😭", " ", "hello")]
    WordlessInputClassifier().process(messages)
    assert [m.get("intent")["name"] for m in messages] == ["nlu_fallback", "nlu_fallback", "goodbye"]


# --- said once -----------------------------------------------------------------------------------


def test_the_not_a_doctor_sentence_is_only_in_the_welcome():
    carrying = [
        name for name, variants in domain()["responses"].items()
        for v in variants if "not a doctor" in (v.get("text") or "").lower() or "automated" in (v.get("text") or "").lower()
    ]
    assert carrying == ["utter_welcome"]
    dispatcher = CollectingDispatcher()
    dispatch_assessment(dispatcher, assess(["i'm on nardil and just started tramadol"]))
    assert "not a doctor" not in texts(dispatcher).lower()
    assert "911" in texts(dispatcher)


# --- bot/ helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("idk like 15-20 beats", {"symptom_duration": "like 15-20 beats"}),
        ("nah just the left", {"symptom_side": "left"}),
        ("both. she wont wake up", {}),
        ("lying in bed at night", {"symptom_trigger": "lying in bed"}),
        ("my calf muscles have been twitching a lot the last couple days", {}),  # how long it has gone on, not an episode
        ("right now my leg is jerking", {}),
    ],
)
def test_intake_answers(text, expected):
    assert answers(text) == expected


@pytest.mark.parametrize("text, plain", [("nothing sets it off", True), ("its random", True), ("none", True), ("stop", False), ("never mind", False)])
def test_plain_answers(text, plain):
    assert is_plain_answer(text) is plain


def test_booking_answers_skip_whom_and_questions():
    now = datetime(2026, 12, 1, 14, 15, tzinfo=ZoneInfo(clinic().timezone))
    assert booking_answers("make appointment for my dad", clinic(), now) == {}
    assert booking_answers("ok is my thursday appt still booked tho?", clinic(), now) == {}
    assert parse_name("Jamie Ortiz, like i said") == "Jamie Ortiz"
    assert parse_name("Frank Moretti (same)") == "Frank Moretti"


def test_a_typed_button_title_kept_as_text_is_a_choice_not_a_description():
    # The widget keeps the typed words ("I have symptoms in my leg" as a button's title) as the message
    # text and records the button in the metadata (rasa_ext.channels.typed_reply_message).
    event = user_event("My leg jerks at night", "report_symptom")
    event["metadata"] = {"button": "/report_symptom"}
    event["parse_data"]["metadata"] = {"button": "/report_symptom"}
    tracker = make_tracker(events=[{"event": "action", "name": "action_listen"}, event])
    _, events = run(ActionStartSymptomIntake(), tracker)
    assert slot_values(events).get("symptom_description") is None
    typed = make_tracker(["My leg jerks at night"])
    _, events = run(ActionStartSymptomIntake(), typed)
    assert slot_values(events).get("symptom_description") == "My leg jerks at night"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hi can I set up a visit, my hand jerks when I hold the blow dryer", True),
        ("i need an appt asap my foot wont stop bouncing", True),
        ("book me in, the jerking is back", True),
        ("can i book for my mom? her legs jump at night", True),
        ("I want to schedule a visit for my son", True),
        ("id like to see a neurologist about the twitching", True),
        ("can we get a follow up after her stroke", True),
        ("my leg jerks when i stand up", False),
        ("i dont need an appointment, just asking", False),
        ("i already have an appt on friday, my leg still jerks", False),
        ("cancel my appointment", False),
        ("do i need to see a doctor for this?", False),
        ("should my mom get a check up", False),
        ("is my thursday appt still booked?", False),
        ("", False),
    ],
)
def test_a_request_to_book_is_read_whatever_else_the_message_says(text, expected):
    from bot.booking import asks_to_book

    assert asks_to_book(text) is expected
