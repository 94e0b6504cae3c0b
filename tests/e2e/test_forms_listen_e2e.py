"""Issue 10 through the real Rasa server and action server: a booking prefilled from the first
message, a read-back correction of one field, "its random" as an answer, "yes pls" after an offer,
typed button titles, emoji-only input, and the not-a-doctor sentence said once."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from bot.db.models import AppointmentRequest
from tests.e2e.stack import texts

pytestmark = pytest.mark.e2e


def new_sender(kind: str) -> str:
    return f"e2e-{kind}-{uuid.uuid4().hex[:10]}"


def converse(stack, sender, turns):
    """Each (message, words the reply must contain); returns the last reply's messages."""
    messages = []
    for message, expected in turns:
        messages = stack.say(sender, message)
        reply = texts(messages)
        for words in expected:
            assert words.lower() in reply.lower(), f"after {message!r} got {reply!r}\n{stack.logs()}"
    return messages


def stored_requests(stack, sender):
    engine = sa.create_engine(stack.database_url, future=True)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(AppointmentRequest).where(AppointmentRequest.conversation_id == sender)).mappings().all()
    finally:
        engine.dispose()


def test_booking_prefilled_from_the_first_message_asks_only_what_is_missing(rasa_stack):
    sender = new_sender("prefill")
    first = texts(rasa_stack.say(sender, "i want to book an appointment, next monday 10am works, name is Jamie Ortiz"))
    assert "phone number" in first.lower(), first  # the name and the time were given: not asked again
    assert "full name" not in first.lower() and "what day and time" not in first.lower(), first
    converse(rasa_stack, sender, [("(312) 555-0134", ["what is the visit for"])])
    readback = texts(rasa_stack.say(sender, "follow up for my ankle clonus"))
    for part in ("Jamie Ortiz", "(312) 555-0134", "Monday", "10:00 AM", "follow up for my ankle clonus", "Is this right?"):
        assert part in readback, readback
    assert "request is saved" in texts(rasa_stack.say(sender, "yes"))
    [row] = stored_requests(rasa_stack, sender)
    assert row["patient_name"] == "Jamie Ortiz" and row["phone_e164"] == "+13125550134"
    assert row["reason"] == "follow up for my ankle clonus"


def test_a_read_back_correction_changes_that_field_only(rasa_stack):
    sender = new_sender("correct")
    converse(
        rasa_stack,
        sender,
        [
            ("i want to book an appointment", ["full name"]),
            ("Frank Moretti", ["phone number"]),
            ("312-555-0155", ["day and time"]),
            ("next tuesday at 10am", ["what is the visit for"]),
            ("his clonus got worse after his stroke", ["Is this right?", "his clonus got worse after his stroke"]),
            ("no the phone number is wrong", ["phone number"]),
        ],
    )
    readback = texts(rasa_stack.say(sender, "312-555-0177"))
    for part in ("Frank Moretti", "(312) 555-0177", "Tuesday", "10:00 AM", "his clonus got worse after his stroke"):
        assert part in readback, readback
    assert "(312) 555-0155" not in readback
    assert "request is saved" in texts(rasa_stack.say(sender, "yes"))
    [row] = stored_requests(rasa_stack, sender)
    assert row["patient_name"] == "Frank Moretti" and row["phone_e164"] == "+13125550177"
    assert row["reason"] == "his clonus got worse after his stroke"


def test_its_random_answers_the_trigger_question(rasa_stack):
    sender = new_sender("random")
    converse(
        rasa_stack,
        sender,
        [
            ("/report_symptom", ["what do you feel"]),
            ("my left calf keeps twitching", ["how many beats"]),  # "left": the side is not asked
            ("few seconds", ["what sets it off"]),
        ],
    )
    reply = texts(rasa_stack.say(sender, "its random"))
    assert "stopped the questions" not in reply, reply
    assert "other symptoms" in reply.lower(), reply
    tracker = rasa_stack.tracker(sender)
    assert tracker["slots"]["symptom_trigger"] == "its random"
    assert tracker["slots"]["symptom_side"] == "left"
    assert (tracker.get("active_loop") or {}).get("name") == "symptom_form"


def test_yes_pls_after_an_offer_takes_it(rasa_stack):
    sender = new_sender("offer")
    offer = texts(rasa_stack.say(sender, "what is clonus"))
    assert "Do you want to know what causes it" in offer, offer
    reply = texts(rasa_stack.say(sender, "yes pls"))
    assert "damage to the nerve cells" in reply, reply  # utter_education/causes
    assert "anything else I can help with" not in reply


def test_a_typed_button_title_acts_as_the_button_and_emoji_get_the_menu(rasa_stack):
    sender = new_sender("title")
    rasa_stack.say(sender, "hi")
    started = texts(rasa_stack.say(sender, "I have symptoms"))
    assert "what do you feel" in started.lower(), started
    other = new_sender("emoji")
    rasa_stack.say(other, "hi")
    menu = rasa_stack.say(other, "😭😭😭")
    titles = [b["title"] for m in menu for b in m.get("buttons") or []]
    assert "I have symptoms" in titles and "Book an appointment" in titles, menu
    assert not any((m.get("custom") or {}).get("emergency") for m in menu)


def test_the_not_a_doctor_sentence_is_said_once(rasa_stack):
    sender = new_sender("once")
    said = [texts(rasa_stack.say(sender, m)) for m in ("hi", "i'm on nardil and just started tramadol", "why?")]
    assert sum(t.lower().count("not a doctor") for t in said) == 1, said
    assert "not a doctor" in said[0].lower()
