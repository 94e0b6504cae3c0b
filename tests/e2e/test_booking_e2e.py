"""A booking conversation over the REST channel of the real Rasa server and action server,
then the appointment request found in the (PostgreSQL) database."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from bot.db.models import AppointmentRequest
from tests.e2e.stack import texts

pytestmark = pytest.mark.e2e


def test_first_turn_says_it_is_automated_and_gives_the_emergency_number(rasa_stack):
    reply = texts(rasa_stack.say(f"e2e-{uuid.uuid4().hex}", "hello"))
    assert "automated" in reply and "not a doctor" in reply
    assert "911" in reply


def test_disclaimer_is_said_once_per_conversation(rasa_stack):
    sender = f"e2e-{uuid.uuid4().hex}"
    rasa_stack.say(sender, "hi")
    second = texts(rasa_stack.say(sender, "what is clonus"))
    assert "not a doctor" not in second
    assert "clonus" in second.lower()


def test_booking_conversation_is_stored(rasa_stack):
    sender = f"e2e-booking-{uuid.uuid4().hex[:8]}"
    turns = [
        ("i want to book an appointment", "name"),
        ("Jane Testperson", "phone"),
        ("12", "doesn't look like a phone number"),  # invalid: asked again
        ("(312) 555-0142", "day and time"),
        ("yesterday at 10am", "already passed"),  # in the past: asked again
        ("next tuesday at 10am", "what is the visit for"),
        ("my left ankle keeps jerking", "Is this right?"),
    ]
    for message, expected in turns:
        reply = texts(rasa_stack.say(sender, message))
        assert expected.lower() in reply.lower(), f"after {message!r} got {reply!r}\n{rasa_stack.logs()}"
    confirm = texts(rasa_stack.say(sender, "yes"))
    assert "request is saved" in confirm, confirm

    engine = sa.create_engine(rasa_stack.database_url, future=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(AppointmentRequest).where(AppointmentRequest.conversation_id == sender)
            ).mappings().all()
    finally:
        engine.dispose()
    assert len(rows) == 1
    row = rows[0]
    assert row["patient_name"] == "Jane Testperson"
    assert row["phone_e164"] == "+13125550142"
    assert row["status"] == "new"
    assert row["preferred_time"].weekday() == 1  # Tuesday (stored in UTC; 10:00 Chicago is 16:00 UTC)
    assert row["reason"] == "my left ankle keeps jerking"
    assert row["triage_level"] in {"self_care", "routine", "urgent", "emergency"}

    # The conversation itself is in Rasa's tracker store in the same database.
    tracker = rasa_stack.tracker(sender)
    assert any(e.get("event") == "user" and e.get("text") == "Jane Testperson" for e in tracker["events"])


def test_emergency_interrupts_booking_form(rasa_stack):
    sender = f"e2e-emerg-{uuid.uuid4().hex[:8]}"
    rasa_stack.say(sender, "book an appointment please")
    messages = rasa_stack.say(
        sender, "I'm on Nardil and my new doctor gave me tramadoll for my back, now I'm sweaty and my legs keep jerking"
    )
    reply = texts(messages)
    assert "911" in reply, reply
    assert any((m.get("custom") or {}).get("emergency") for m in messages), messages
    tracker = rasa_stack.tracker(sender)
    assert tracker["slots"]["triage_level"] == "emergency"
    assert tracker["active_loop"] in ({}, None) or not tracker["active_loop"].get("name")
    assert {"phenelzine", "tramadol"} <= set(tracker["slots"]["medications"])
