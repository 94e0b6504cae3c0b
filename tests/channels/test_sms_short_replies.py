"""SMS replies of at most 320 characters: rasa_ext.channels.sms.paginate, the MORE keyword, and
typed button titles (rasa_ext.channels.typed_title)."""

from __future__ import annotations

import pytest

from rasa_ext.channels import sms, typed_title

EDUCATION = (
    "Clonus is a muscle that jerks again and again on its own. It happens when the muscle is stretched fast, and it "
    "shows up most often in the ankle. A few beats can happen in healthy people. Doctors only call it a problem when "
    "it keeps going for more than five beats. It is often on one side of the body, and it usually points to a problem "
    "with the nerves in the brain or spine. Do you want to know what causes it or how doctors check for it?"
)


def test_a_short_reply_is_one_page():
    assert sms.paginate("Take care. Call 911 in an emergency.") == ["Take care. Call 911 in an emergency."]


def test_a_long_answer_keeps_its_options_on_the_first_page_and_says_reply_more():
    turn = sms.render_turn([{"text": EDUCATION, "buttons": [{"title": "Book an appointment", "payload": "/book_appointment"},
                                                            {"title": "Talk to the clinic", "payload": "/request_human"}]}])
    pages = sms.paginate(turn)
    assert len(pages) >= 2 and all(sms.sms_length(p) <= sms.SMS_SHORT_CHARS for p in pages)
    assert "Reply 1 for Book an appointment" in pages[0] and "Reply 2 for Talk to the clinic" in pages[0]
    assert pages[0].endswith(sms.MORE_HINT) and not pages[-1].endswith(sms.MORE_HINT)
    words = " ".join(p.replace(sms.MORE_HINT, "") for p in pages).split()
    assert [w for w in words if not w.startswith(("Reply", "1", "2"))]  # sanity
    assert EDUCATION.split()[-5:] == pages[-1].split()[-5:]


def test_an_emergency_first_page_gives_the_number():
    text = "EMERGENCY: " + "You describe several worrying signs. " * 12 + "Call 911 now or go to the nearest emergency department."
    pages = sms.paginate(text, emergency_number="911")
    assert "911" in pages[0] and all(len(p) <= 320 for p in pages)


def test_an_emergency_after_the_welcome_is_on_the_first_page():
    # The first message of a conversation is an emergency: the welcome (which itself mentions 911)
    # comes first in the turn, then the emergency reply. The first page must be the emergency.
    welcome = {"text": "Hi, I'm the clinic's assistant. I'm an automated tool, not a doctor, and I can't diagnose. "
                       "If this is an emergency, call 911 now."}
    emergency = {"text": "These signs together can be serotonin syndrome, a reaction to medicines that can become "
                         "life-threatening quickly. " * 2 + "Call 911 now or go to the nearest emergency department.",
                 "custom": {"emergency": True, "call": "911"}}
    pages = sms.paginate(sms.render_turn([welcome, emergency]), emergency_number="911")
    assert pages[0].startswith("EMERGENCY: These signs together")
    assert all(sms.sms_length(p) <= sms.SMS_SHORT_CHARS for p in pages)
    assert "automated tool, not a doctor" in " ".join(pages)  # the welcome is not dropped, only after


@pytest.mark.parametrize("text, more", [("MORE", True), ("more pls", True), ("More.", True), ("more jerking today", False), ("", False)])
def test_asks_for_more(text, more):
    assert sms.asks_for_more(text) is more


def test_typed_title_acts_as_the_button_but_a_number_stays_an_answer():
    turn = [{"text": "Hello!", "buttons": [{"title": "I have symptoms", "payload": "/report_symptom"},
                                          {"title": "What is clonus?", "payload": "/education/what_is_clonus"}]}]
    assert typed_title("i have symptoms", turn) == "/report_symptom"
    assert typed_title("What is clonus", turn) == "/education/what_is_clonus"
    assert typed_title("1", turn) is None
    assert typed_title("i have symptoms in my left leg", turn) is None


# ---- over real HTTP against the running Rasa server -----------------------------------------------


@pytest.mark.e2e
def test_an_education_answer_by_sms_is_short_and_more_sends_the_rest(channel_stack):
    from tests.channels.conftest import new_phone, sms_params, sms_post, twiml_messages

    phone = new_phone()
    sms_post(channel_stack, sms_params(phone, "hi"))
    [first] = twiml_messages(sms_post(channel_stack, sms_params(phone, "what is clonus")))
    assert len(first) <= 320 and first.rstrip().endswith(sms.MORE_HINT), first
    assert "Reply 1 for Book an appointment" in first
    pages = [first]
    while pages[-1].rstrip().endswith(sms.MORE_HINT):
        [page] = twiml_messages(sms_post(channel_stack, sms_params(phone, "MORE")))
        assert len(page) <= 320, page
        pages.append(page)
        assert len(pages) < 6
    assert "Do you want to know what causes it" in " ".join(pages)
    # the numbered option of the first page still works after the pages
    [booking] = twiml_messages(sms_post(channel_stack, sms_params(phone, "1")))
    assert "full name" in booking.lower(), booking
