"""Custom actions with real rasa_sdk Trackers and CollectingDispatchers."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.booking import ActionAskBookingConfirmed, ActionSubmitBookingForm, ValidateBookingForm
from actions.session import ActionSessionStart
from actions.symptoms import ActionAskCurrentMedicines, ActionStartSymptomIntake, ActionSubmitSymptomForm
from actions.triage import ActionExplainTriage, ActionTriage
from bot.db.models import AppointmentRequest, TriageAssessment
from tests.action_helpers import domain, make_tracker, responses, run, slot_values, texts
from tests.fixtures_db import rows

# --- session start -------------------------------------------------------------------------


def test_session_start_says_it_is_automated_once_and_fills_clinic_slots():
    dispatcher, events = run(ActionSessionStart(), make_tracker())
    assert responses(dispatcher) == ["utter_welcome"]
    assert dispatcher.messages[0]["emergency_number"] == "911"
    slots = slot_values(events)
    assert slots["disclaimer_given"] is True
    assert slots["clinic_phone"] and slots["emergency_number"] == "911"
    assert events[0]["event"] == "session_started" and events[-1] == {**events[-1], "event": "action", "name": "action_listen"}

    again, _ = run(ActionSessionStart(), make_tracker(slots={"disclaimer_given": True}))
    assert responses(again) == []


def test_session_start_carries_the_triage_level_over():
    _, events = run(ActionSessionStart(), make_tracker(slots={"triage_level": "urgent", "red_flags": ["COMBO-MAOI"]}))
    slots = slot_values(events)
    assert slots["triage_level"] == "urgent" and slots["red_flags"] == ["COMBO-MAOI"]


# --- triage --------------------------------------------------------------------------------


def test_emergency_gives_the_number_with_the_reason_and_leaves_the_form(database):
    sender = f"t-{uuid.uuid4().hex}"
    tracker = make_tracker(
        ["I'm on Nardil and my new doctor gave me tramadoll for my back", "now I'm sweaty and my legs keep jerking"],
        active_loop="booking_form",
        sender_id=sender,
    )
    dispatcher, events = run(ActionTriage(), tracker)
    said = texts(dispatcher)
    assert "911" in said
    assert "phenelzine" in said.lower() or "serotonin" in said.lower()
    assert any((m.get("custom") or {}).get("emergency") for m in dispatcher.messages)
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    slots = slot_values(events)
    assert slots["triage_level"] == "emergency"
    assert {"phenelzine", "tramadol"} <= set(slots["medications"])
    assert slots["red_flags"]
    stored = rows(database, TriageAssessment, sender)
    assert len(stored) == 1 and stored[0]["level"] == "emergency"


def test_stated_emergency_without_named_red_flag_is_treated_as_emergency(database):
    tracker = make_tracker(["please help it's an emergency"], intent="emergency")
    dispatcher, events = run(ActionTriage(), tracker)
    assert "911" in texts(dispatcher)
    assert slot_values(events)["triage_level"] == "emergency"


@pytest.mark.parametrize("text", ["tuesday 9:30", "lkjlkj 8888", "HELP", "no wait wrong number, its 312-555-0177"])
def test_emergency_intent_alone_gets_a_question_not_the_alarm(database, text):
    """Issue 10: the classifier's `emergency` never raises the emergency reply by itself."""
    dispatcher, events = run(ActionTriage(), make_tracker([text], intent="emergency"))
    assert responses(dispatcher) == ["utter_emergency_check"]
    assert not any((m.get("json_message") or {}).get("emergency") for m in dispatcher.messages)
    assert events == []


def test_actions_read_the_turns_assessment_from_the_slot(database):
    """The Rasa server's `assessment` slot is what the action tells, not a second engine run."""
    from bot.triage import assess

    told = assess(["my face is drooping on one side"]).to_turn_dict()
    value = {**told, "messages": 1, "stated_emergency": False, "crisis": False}
    tracker = make_tracker(["(the text the slot was computed from)"], intent="report_symptom", slots={"assessment": value})
    dispatcher, events = run(ActionTriage(), tracker)
    assert slot_values(events)["red_flags"] == ["RF-STROKE"]
    assert "stroke" in texts(dispatcher)
    stale = make_tracker(["hello", "(a second message)"], intent="greet", slots={"assessment": value})
    dispatcher, events = run(ActionTriage(), stale)  # two messages, the slot covers one: recomputed
    assert "stroke" not in texts(dispatcher)


def test_medicines_are_said_back_and_unrecognised_names_too(database):
    tracker = make_tracker(["i take zolof and xylophrine 20mg"], intent="report_medication")
    dispatcher, events = run(ActionTriage(), tracker)
    said = texts(dispatcher)
    assert "sertraline" in said
    assert "xylophrine" in said.lower() and "pharmacist" in said.lower()
    assert "xylophrine" in [u.lower() for u in slot_values(events)["unrecognised_medications"]]


def test_routine_combination_offers_booking(database):
    dispatcher, events = run(ActionTriage(), make_tracker(["i take zoloft and lithium"], intent="report_medication"))
    assert slot_values(events)["triage_level"] == "routine"
    assert slot_values(events)["offered_booking"] is True
    assert any(b["payload"] == "/book_appointment" for m in dispatcher.messages for b in m.get("buttons") or [])


def test_urgent_combination_says_whom_to_contact_today(database):
    dispatcher, events = run(ActionTriage(), make_tracker(["i'm on nardil and just started tramadol"], intent="report_medication"))
    said = texts(dispatcher).lower()
    assert slot_values(events)["triage_level"] == "urgent"
    assert "today" in said and ("prescriber" in said or "pharmacist" in said)
    assert "stop taking" not in said


def test_no_medicine_name_asks_for_it_again():
    dispatcher, events = run(ActionTriage(), make_tracker(["i take a pill for it"], intent="report_medication"))
    assert "medicine name" in texts(dispatcher)
    assert events == []


def test_why_lists_the_reasons():
    tracker = make_tracker(["i'm on nardil and just started tramadol", "why?"], intent="ask_why")
    dispatcher, _ = run(ActionExplainTriage(), tracker)
    assert "COMBO" not in texts(dispatcher)  # plain words, not rule ids
    assert "phenelzine" in texts(dispatcher).lower()


def test_why_without_any_finding():
    dispatcher, _ = run(ActionExplainTriage(), make_tracker(["hello", "why?"], intent="ask_why"))
    assert responses(dispatcher) == ["utter_no_triage_yet"]


# --- symptom intake ------------------------------------------------------------------------


def test_symptom_intake_keeps_the_first_description():
    dispatcher, events = run(ActionStartSymptomIntake(), make_tracker(["my dad's foot won't stop bouncing"]))
    slots = slot_values(events)
    assert slots["symptom_description"] == "my dad's foot won't stop bouncing"
    assert slots["symptom_duration"] is None
    assert responses(dispatcher) == ["utter_start_symptom_intake"]


def test_symptom_intake_from_a_button_asks_for_the_description():
    _, events = run(ActionStartSymptomIntake(), make_tracker(["/report_symptom"]))
    assert slot_values(events)["symptom_description"] is None


def test_medicine_question_names_what_was_already_said():
    dispatcher, _ = run(ActionAskCurrentMedicines(), make_tracker(["i'm on zoloft and my leg jerks"]))
    assert "sertraline" in texts(dispatcher)
    plain, _ = run(ActionAskCurrentMedicines(), make_tracker(["my leg jerks"]))
    assert responses(plain) == ["utter_ask_current_medicines"]


def test_symptom_submit_settles_the_level_and_stores_it(database):
    sender = f"t-{uuid.uuid4().hex}"
    tracker = make_tracker(
        ["my left ankle keeps jerking after my stroke", "it goes on for like 20 beats", "only left", "when i stand", "no", "none"],
        sender_id=sender,
    )
    dispatcher, events = run(ActionSubmitSymptomForm(), tracker)
    assert slot_values(events)["triage_level"] in {"routine", "urgent"}
    assert rows(database, TriageAssessment, sender)


# --- booking -------------------------------------------------------------------------------


def validate(slot, value, **slots):
    action = ValidateBookingForm()
    dispatcher = CollectingDispatcher()
    method = getattr(action, f"validate_{slot}")
    result = asyncio.run(method(value, dispatcher, make_tracker(slots=slots, active_loop="booking_form"), domain()))
    return result, dispatcher


def test_invalid_phone_gets_its_own_reprompt():
    result, dispatcher = validate("phone_number", "12")
    assert result == {"phone_number": None}
    assert responses(dispatcher) == ["utter_wrong_phone_number"]


def test_phone_is_stored_normalised():
    result, dispatcher = validate("phone_number", "my cell is 312.555.0142")
    assert result == {"phone_number": "+13125550142"} and not dispatcher.messages


@pytest.mark.parametrize("value, problem", [("yesterday at 10am", "already passed"), ("saturday 10am", "closed"), ("whenever", "couldn't tell")])
def test_bad_times_get_a_specific_reprompt(value, problem):
    result, dispatcher = validate("preferred_time", value)
    assert result == {"preferred_time": None}
    assert responses(dispatcher) == ["utter_wrong_preferred_time"]
    assert problem in dispatcher.messages[0]["problem"]


def test_good_time_is_stored_as_iso():
    result, _ = validate("preferred_time", "next tuesday at 10am")
    assert "T10:00:00" in result["preferred_time"]


def test_bad_name_gets_its_own_reprompt():
    result, dispatcher = validate("patient_name", "12345")
    assert result == {"patient_name": None} and responses(dispatcher) == ["utter_wrong_patient_name"]


def test_saying_no_at_the_read_back_asks_what_to_change_and_keeps_the_answers():
    # Issue 10: a plain "no" at the read-back used to restart the whole form; now it asks which part.
    result, dispatcher = validate("booking_confirmed", False)
    assert result == {"booking_confirmed": None, "booking_change": "ask"}
    assert not dispatcher.messages
    tracker = make_tracker(
        slots={"patient_name": "Jane Doe", "phone_number": "+13125550142", "preferred_time": "2030-01-08T10:00:00-06:00",
               "visit_reason": "ankle jerking", "booking_change": "ask"}
    )
    asked, events = run(ActionAskBookingConfirmed(), tracker)
    assert responses(asked) == ["utter_ask_what_to_change"]
    assert slot_values(events) == {"booking_change": None}


def test_read_back_shows_every_answer():
    tracker = make_tracker(
        slots={"patient_name": "Jane Doe", "phone_number": "+13125550142", "preferred_time": "2030-01-08T10:00:00-06:00", "visit_reason": "ankle jerking"}
    )
    dispatcher, _ = run(ActionAskBookingConfirmed(), tracker)
    said = texts(dispatcher)
    for part in ("Jane Doe", "(312) 555-0142", "Tuesday, January 8 at 10:00 AM", "ankle jerking"):
        assert part in said


def test_booking_submit_stores_the_request_with_the_level(database):
    sender = f"t-{uuid.uuid4().hex}"
    tracker = make_tracker(
        slots={
            "patient_name": "Jane Doe", "phone_number": "+13125550142", "preferred_time": "2030-01-08T10:00:00-06:00",
            "visit_reason": "ankle jerking", "booking_confirmed": True, "triage_level": "routine",
        },
        sender_id=sender,
    )
    dispatcher, events = run(ActionSubmitBookingForm(), tracker)
    assert responses(dispatcher) == ["utter_booking_saved"]
    assert all(v is None for v in slot_values(events).values())
    stored = rows(database, AppointmentRequest, sender)
    assert len(stored) == 1
    assert stored[0]["phone_e164"] == "+13125550142" and stored[0]["triage_level"] == "routine"
    assert stored[0]["status"] == "new"


def test_booking_submit_failure_tells_the_person_to_call(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    tracker = make_tracker(
        slots={"patient_name": "Jane Doe", "phone_number": "+13125550142", "preferred_time": "2030-01-08T10:00:00-06:00",
               "visit_reason": "x y", "booking_confirmed": True}
    )
    dispatcher, _ = run(ActionSubmitBookingForm(), tracker)
    assert responses(dispatcher) == ["utter_booking_failed"]


# --- what counts as an answer to the question just asked -------------------------------------


def extract(action, slot, text, intent, confidence):
    tracker = make_tracker(slots={"requested_slot": slot}, active_loop="form", events=[])
    tracker.latest_message = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    return asyncio.run(getattr(action, f"extract_{slot}")(CollectingDispatcher(), tracker, domain()))


@pytest.mark.parametrize(
    "slot, text, intent, confidence, expected",
    [
        ("patient_name", "Jane Testperson", "request_human", 0.97, "Jane Testperson"),
        ("patient_name", "can i talk to someone", "request_human", 0.97, None),
        ("patient_name", "what is clonus?", "education", 0.95, None),
        ("patient_name", "cancel", "cancel", 0.99, None),
        ("phone_number", "312 555 0142", "out_of_scope", 0.99, "312 555 0142"),
        ("phone_number", "why do you need it", "ask_why", 0.95, None),
        ("phone_number", "12", "emergency", 0.93, "12"),  # number-like: validation re-asks
        ("preferred_time", "next tuesday at 10", "greet", 0.9, "next tuesday at 10"),
        ("preferred_time", "stop", "cancel", 0.99, None),
        ("visit_reason", "jerky ankle", "out_of_scope", 0.95, "jerky ankle"),
        ("visit_reason", "never mind", "cancel", 0.98, None),
    ],
)
def test_booking_answers_are_taken_unless_they_are_an_interruption(slot, text, intent, confidence, expected):
    result = extract(ValidateBookingForm(), slot, text, intent, confidence)
    assert result == ({slot: expected} if expected else {})


@pytest.mark.parametrize(
    "text, intent, confidence, taken",
    [
        ("when i stand up", "education", 0.55, True),
        ("when i stand up", "report_symptom", 0.95, True),
        ("what is clonus?", "education", 0.95, False),
        ("stop", "cancel", 0.99, False),
        ("i dont know", "dont_know", 0.99, False),  # recorded as "not sure" by the slot mapping
    ],
)
def test_symptom_answers_are_taken_unless_they_are_an_interruption(text, intent, confidence, taken):
    from actions.symptoms import ValidateSymptomForm

    result = extract(ValidateSymptomForm(), "symptom_trigger", text, intent, confidence)
    assert result == ({"symptom_trigger": text} if taken else {})


def test_declining_the_offer_clears_it():
    from actions.booking import ActionDeclineOffer

    dispatcher, events = run(ActionDeclineOffer(), make_tracker(slots={"offered_booking": True}))
    assert responses(dispatcher) == ["utter_anything_else"]
    assert slot_values(events) == {"offered_booking": False}


@pytest.mark.parametrize("slot", ["symptom_description", "symptom_duration", "symptom_side", "symptom_trigger", "other_symptoms", "current_medicines"])
def test_symptom_answers_are_trimmed_and_bounded(slot):
    from actions.symptoms import ValidateSymptomForm

    method = getattr(ValidateSymptomForm(), f"validate_{slot}")
    result = asyncio.run(method("  " + "x" * 5000 + "  ", CollectingDispatcher(), make_tracker(), domain()))
    assert len(result[slot]) == 1000 and not result[slot].startswith(" ")
    empty = asyncio.run(method("   ", CollectingDispatcher(), make_tracker(), domain()))
    assert empty == {slot: None}


def _intake_events(opening: str) -> list:
    """A conversation whose symptom intake was started by `opening`, then answered."""
    from tests.action_helpers import user_event

    events = [{"event": "action", "name": "action_listen"}, user_event(opening, "report_symptom"),
              {"event": "action", "name": "action_start_symptom_intake"}]
    for answer in ["not sure", "not sure", "nothing in particular", "no, nothing else", "skip"]:
        events += [{"event": "action", "name": "action_listen"}, user_event(answer, "dont_know")]
    return events


def test_symptom_report_that_asks_for_a_visit_goes_on_to_the_booking_form(database):
    sender = f"t-{uuid.uuid4().hex}"
    tracker = make_tracker(events=_intake_events("Hi can I set up a visit, my hand jerks when I hold the blow dryer"), sender_id=sender)
    dispatcher, events = run(ActionSubmitSymptomForm(), tracker)
    assert slot_values(events)["triage_level"] in {"routine", "self_care"}
    assert responses(dispatcher)[-1] == "utter_booking_as_asked"
    assert not any(m.get("buttons") for m in dispatcher.messages)
    assert {"event": "followup", "name": "booking_form"} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    assert slot_values(events)["offered_booking"] is False


def test_symptom_report_without_a_visit_request_is_not_booked(database):
    sender = f"t-{uuid.uuid4().hex}"
    tracker = make_tracker(events=_intake_events("my hand jerks when I hold the blow dryer"), sender_id=sender)
    dispatcher, events = run(ActionSubmitSymptomForm(), tracker)
    assert "utter_booking_as_asked" not in responses(dispatcher)
    assert not [e for e in events if e.get("event") == "followup"]


def test_an_emergency_is_never_followed_by_the_booking_form(database):
    sender = f"t-{uuid.uuid4().hex}"
    opening = "can i book an appt, my dad just had a seizure and wont wake up"
    dispatcher, events = run(ActionSubmitSymptomForm(), make_tracker(events=_intake_events(opening), sender_id=sender))
    assert slot_values(events)["triage_level"] == "emergency"
    assert "utter_booking_as_asked" not in responses(dispatcher)
    assert not [e for e in events if e.get("event") == "followup"]


def test_an_unclear_message_that_names_a_medicine_is_still_checked(database):
    from actions.triage import ActionUnclear

    sender = f"t-{uuid.uuid4().hex}"
    tracker = make_tracker(["been on tizanadine a week for spasms, kinda dozy in the afternoon. normal?"], intent="nlu_fallback", sender_id=sender)
    dispatcher, events = run(ActionUnclear(), tracker)
    assert "utter_default" not in responses(dispatcher)
    assert "tizanidine" in texts(dispatcher).lower()
    assert slot_values(events)["medications"] == ["tizanidine"]


@pytest.mark.parametrize("text", ["lkjlkj 8888", "hmm", ""])
def test_an_unclear_message_without_a_medicine_or_a_sign_gets_the_menu(text, database):
    from actions.triage import ActionUnclear

    dispatcher, events = run(ActionUnclear(), make_tracker([text], intent="nlu_fallback"))
    assert responses(dispatcher) == ["utter_default"] and events == []
