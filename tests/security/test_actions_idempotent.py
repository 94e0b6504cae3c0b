"""Outside test of issue 8's last change, findings 1-2: the action server's writes are idempotent.

When the database is locked at the moment a turn is saved, the action server has already run the
turn's actions and written their side effects; the Rasa server refuses the save, the channel
answers 503 "your message could not be saved, please send it again", and the person sends the
same message again. The resent turn reaches the action server with the same stored conversation
(everything before the new user message) and a new user event (new timestamp, new message id).

- finding 1: the resent "yes" at the booking read-back finds the appointment request its first
  attempt stored (one request, the same id), while a later, deliberate booking is a new one;
- finding 2: the triage row written for the refused attempt is replaced by the resent turn's row
  (one row per stored turn), never a second one.

Real rasa_sdk Trackers in the shape the Rasa server sends (events with timestamps), the real
actions, the real database (SQLite and PostgreSQL).
"""

from __future__ import annotations

import uuid

import pytest

from actions.booking import ActionSubmitBookingForm
from actions.triage import ActionTriage
from bot.db.models import AppointmentRequest, TriageAssessment
from tests.action_helpers import make_tracker, responses, run, user_event
from tests.fixtures_db import BACKENDS, rows

BOOKING = {
    "patient_name": "Jane Testperson",
    "phone_number": "+13125550142",
    "preferred_time": "2030-01-08T10:00:00-06:00",
    "visit_reason": "leg jerks at night",
    "booking_confirmed": True,
    "triage_level": "routine",
}


@pytest.fixture(scope="module", params=BACKENDS)
def db_url(request, clonus_databases):
    """This module's own database: the actions commit real rows (appointment requests, triage
    decisions), which must not appear in the shared database that other modules count rows in."""
    return clonus_databases.new(request.param)


EMERGENCY = ["I'm on Nardil and my new doctor gave me tramadoll for my back", "now I'm sweaty and my legs keep jerking"]


def stored_turns(texts, start=1_700_000_000.0):
    """Events of turns the tracker store holds: listen, user message (with its timestamp), bot reply."""
    events = []
    for i, text in enumerate(texts):
        t = start + 10 * i
        events.append({"event": "action", "name": "action_listen", "timestamp": t})
        events.append({**user_event(text), "timestamp": t + 1, "message_id": uuid.uuid4().hex})
        events.append({"event": "bot", "text": "ok", "timestamp": t + 2})
    return events


def attempt(stored, text, at, intent="affirm"):
    """The new user message of a turn (a first attempt or its resend: new timestamp and id)."""
    return stored + [
        {"event": "action", "name": "action_listen", "timestamp": at - 1},
        {**user_event(text, intent), "timestamp": at, "message_id": uuid.uuid4().hex},
    ]


def booking_tracker(sender, events):
    return make_tracker(slots=dict(BOOKING), active_loop="booking_form", events=events, sender_id=sender)


def test_resent_booking_confirmation_creates_no_second_request(database):
    sender = f"idem-{uuid.uuid4().hex}"
    stored = stored_turns(["I want to book an appointment", "Jane Testperson", "312 555 0142", "tuesday 10am", "leg jerks at night"])
    first, _ = run(ActionSubmitBookingForm(), booking_tracker(sender, attempt(stored, "yes", 1_700_000_100.0)))
    # The Rasa server could not store that turn (503, "please send it again"): the person does.
    again, _ = run(ActionSubmitBookingForm(), booking_tracker(sender, attempt(stored, "yes", 1_700_000_160.0)))
    assert responses(first) == responses(again) == ["utter_booking_saved"]
    assert len(rows(database, AppointmentRequest, sender)) == 1


def test_resent_booking_returns_the_same_request_and_a_new_booking_is_new(database):
    from bot import db

    key = "k" + uuid.uuid4().hex
    args = dict(conversation_id="c-" + key, patient_name="Jane Testperson", phone_e164="+13125550142",
                preferred_time=None, reason="x", triage_level="routine", url=database)
    first = db.record_appointment_request(**args, idempotency_key=key)
    assert db.record_appointment_request(**args, idempotency_key=key) == first
    assert db.record_appointment_request(**args, idempotency_key=key + "-later") != first

    # Through the action: a booking made in a later turn (after the first was stored) is a new request.
    sender = f"idem-{uuid.uuid4().hex}"
    stored = stored_turns(["book please", "Jane Testperson", "312 555 0142", "tuesday 10am", "leg jerks at night"])
    run(ActionSubmitBookingForm(), booking_tracker(sender, attempt(stored, "yes", 1_700_000_100.0)))
    later = attempt(stored, "yes", 1_700_000_100.0) + stored_turns(["book another", "yes"], start=1_700_000_200.0)
    run(ActionSubmitBookingForm(), booking_tracker(sender, attempt(later, "yes", 1_700_000_300.0)))
    assert len(rows(database, AppointmentRequest, sender)) == 2


def test_resent_emergency_turn_replaces_its_triage_row(database):
    sender = f"idem-{uuid.uuid4().hex}"
    stored = stored_turns(["hello", EMERGENCY[0]])

    def emergency_turn(at):
        events = attempt(stored, EMERGENCY[1], at, intent="report_symptom")
        return make_tracker(events=events, sender_id=sender)

    first, _ = run(ActionTriage(), emergency_turn(1_700_000_100.0))
    assert "911" in " ".join(m.get("text") or "" for m in first.messages)
    # Refused by the Rasa server, sent again: the row of the refused attempt is replaced.
    run(ActionTriage(), emergency_turn(1_700_000_130.0))
    stored_rows = rows(database, TriageAssessment, sender)
    assert len(stored_rows) == 1 and stored_rows[0]["level"] == "emergency"


def test_first_message_of_a_session_resent_is_one_triage_row(database):
    """No stored turn before it (its session start is made again on each attempt)."""
    sender = f"idem-{uuid.uuid4().hex}"
    for at in (1_700_000_100.0, 1_700_000_140.0):
        run(ActionTriage(), make_tracker(events=attempt([], " ".join(EMERGENCY), at, intent="report_symptom"), sender_id=sender))
    assert len(rows(database, TriageAssessment, sender)) == 1
