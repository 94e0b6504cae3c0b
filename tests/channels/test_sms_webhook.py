"""The Twilio SMS webhook over real HTTP against the running Rasa server: signature checks that
store nothing when they fail, carrier keywords, numbered options, long and unicode messages, and
a conversation that reaches an emergency by SMS."""

from __future__ import annotations

import re
import urllib.parse

import pytest
import requests
import sqlalchemy as sa

from rasa_ext.channels import sms
from tests.channels.conftest import (
    SMS_PATH,
    new_phone,
    server_log,
    sign,
    sms_params,
    sms_post,
    stored_events,
    twilio_token,
    twiml_messages,
    user_texts,
)

pytestmark = pytest.mark.e2e


def opted_out(stack, phone: str):
    engine = sa.create_engine(stack.database_url, future=True)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT opted_out FROM clonus_sms_opt_out WHERE phone_e164 = :p"), {"p": phone}
            ).scalar()
    finally:
        engine.dispose()


def assert_nothing_stored(stack, phone: str) -> None:
    assert stored_events(stack, phone) == []
    assert opted_out(stack, phone) is None


# ---- signature ------------------------------------------------------------------------------------


def test_valid_signed_request_is_answered_in_twiml_and_stored(channel_stack):
    phone = new_phone()
    resp = sms_post(channel_stack, sms_params(phone, "hello"))
    assert resp.status_code == 200, resp.text
    messages = twiml_messages(resp)
    assert messages and all(0 < sms.sms_length(m) <= 1600 for m in messages)
    assert user_texts(channel_stack, phone) == ["hello"]  # the sender id is the E.164 number


def test_sender_is_normalised_to_e164(channel_stack):
    phone = new_phone()
    national = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
    resp = sms_post(channel_stack, sms_params(national, "hello"))
    assert resp.status_code == 200
    assert user_texts(channel_stack, phone) == ["hello"]
    assert stored_events(channel_stack, national) == []


def test_tampered_body_is_refused_and_nothing_stored(channel_stack):
    phone = new_phone()
    params = sms_params(phone, "hello")
    signature = sign(twilio_token(), channel_stack.rasa_url + SMS_PATH, params)
    tampered = dict(params, Body="I stopped all my medicines")
    resp = sms_post(channel_stack, tampered, signature=signature)
    assert resp.status_code == 403
    assert "<Message>" not in resp.text
    assert_nothing_stored(channel_stack, phone)


def test_tampered_sender_is_refused(channel_stack):
    phone, other = new_phone(), new_phone()
    params = sms_params(phone, "STOP")
    signature = sign(twilio_token(), channel_stack.rasa_url + SMS_PATH, params)
    resp = sms_post(channel_stack, dict(params, From=other), signature=signature)
    assert resp.status_code == 403
    assert_nothing_stored(channel_stack, other)


def test_missing_signature_is_refused_and_nothing_stored(channel_stack):
    phone = new_phone()
    resp = sms_post(channel_stack, sms_params(phone, "STOP"), signature="")
    assert resp.status_code == 403
    assert_nothing_stored(channel_stack, phone)


def test_signature_made_with_another_token_is_refused(channel_stack):
    phone = new_phone()
    resp = sms_post(channel_stack, sms_params(phone, "hello"), token="not-the-account-token")
    assert resp.status_code == 403
    assert_nothing_stored(channel_stack, phone)


@pytest.mark.parametrize(
    "signed_for",
    [
        "https://attacker.example/webhooks/twilio_sms/webhook",  # the same request sent to another site
        "{base}/webhooks/dev/webhook",  # another webhook of ours
        "{base}/webhooks/twilio_sms/webhook?next=1",  # another query string
        "{base}/webhooks/twilio_sms/webhook/",  # another path
    ],
)
def test_request_replayed_from_a_different_url_is_refused(channel_stack, signed_for):
    phone = new_phone()
    url = signed_for.format(base=channel_stack.rasa_url)
    resp = sms_post(channel_stack, sms_params(phone, "hello"), sign_url=url)
    assert resp.status_code == 403
    assert_nothing_stored(channel_stack, phone)


def test_same_request_replayed_is_not_processed_twice(channel_stack):
    phone = new_phone()
    params = sms_params(phone, "hello")
    first = sms_post(channel_stack, params)
    assert first.status_code == 200 and twiml_messages(first)
    again = sms_post(channel_stack, params)
    assert again.status_code == 200
    # Answered with the stored reply of the first delivery (a Twilio or HAProxy retry whose first
    # answer was lost still reaches the person), and not processed again.
    assert twiml_messages(again) == twiml_messages(first)
    assert user_texts(channel_stack, phone) == ["hello"]


def test_empty_body_is_refused(channel_stack):
    url = channel_stack.rasa_url + SMS_PATH
    unsigned = requests.post(url, data=b"", headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    assert unsigned.status_code == 403
    signed = requests.post(
        url,
        data=b"",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(twilio_token(), url, {}),
        },
        timeout=30,
    )
    # Signed but without a sender: nothing to answer, nothing stored.
    assert signed.status_code == 400


def test_empty_message_text_gets_a_hint_and_is_not_sent_to_the_assistant(channel_stack):
    phone = new_phone()
    resp = sms_post(channel_stack, sms_params(phone, ""))
    assert resp.status_code == 200
    (message,) = twiml_messages(resp)
    assert "text" in message.lower()
    assert stored_events(channel_stack, phone) == []


def test_oversized_body_is_refused(channel_stack):
    resp = requests.post(channel_stack.rasa_url + SMS_PATH, data={"Body": "x" * 70_000}, timeout=30)
    assert resp.status_code in (403, 413)


# ---- content --------------------------------------------------------------------------------------


def test_ten_thousand_character_message_gets_a_reply_asking_for_shorter_parts(channel_stack):
    from bot.settings import clinic

    phone = new_phone()
    body = ("my left leg keeps jerking " * 400)[:10_000]
    resp = sms_post(channel_stack, sms_params(phone, body))
    assert resp.status_code == 200, resp.text
    (message,) = twiml_messages(resp)
    assert "too long" in message and "shorter" in message
    assert clinic().emergency_number in message and clinic().phone in message
    assert user_texts(channel_stack, phone) == []  # not handed to the assistant, not cut


def test_unicode_and_emoji_survive_the_round_trip(channel_stack):
    phone = new_phone()
    body = 'Hola 👋 — mi pierna tiembla 😟 ça va? 日本語 <b>&amp;</b> "quoted"'
    resp = sms_post(channel_stack, sms_params(phone, body))
    assert resp.status_code == 200, resp.text
    assert twiml_messages(resp)  # well-formed XML with at least one reply
    assert user_texts(channel_stack, phone) == [body]


def test_form_with_percent_encoded_utf8_and_plus_signs(channel_stack):
    """Twilio form-encodes the body: '+' is a space, %F0%9F%91%8B an emoji; the signature is
    computed over the decoded values."""
    phone = new_phone()
    params = sms_params(phone, "1 + 1 = 2 👋")
    raw = urllib.parse.urlencode(params).encode()
    assert b"%2B" in raw and b"%F0%9F%91%8B" in raw
    resp = sms_post(channel_stack, params, data=raw, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 200
    assert user_texts(channel_stack, phone) == ["1 + 1 = 2 👋"]


def test_typed_intent_payload_is_neutralised(channel_stack):
    phone = new_phone()
    resp = sms_post(channel_stack, sms_params(phone, '/book_appointment{"patient_name": "Mallory"}'))
    assert resp.status_code == 200
    (stored,) = user_texts(channel_stack, phone)
    assert not stored.startswith("/")
    parse = [e for e in stored_events(channel_stack, phone) if e.get("event") == "user"][0]["parse_data"]
    assert not any(e.get("value") == "Mallory" for e in parse.get("entities", []))


def test_buttons_become_numbered_options_and_a_number_selects_one(channel_stack):
    phone = new_phone()
    first = "\n".join(twiml_messages(sms_post(channel_stack, sms_params(phone, "hi"))))
    options = dict((int(n), title) for n, title in re.findall(r"^Reply (\d+) for (.+)$", first, re.M))
    assert options, first
    number = next(n for n, t in options.items() if "book" in t.lower())
    sms_post(channel_stack, sms_params(phone, str(number)))
    user = [e for e in stored_events(channel_stack, phone) if e.get("event") == "user"]
    assert user[-1]["text"] == "/book_appointment"
    assert user[-1]["parse_data"]["intent"]["name"] == "book_appointment"


def test_option_words_select_it_too(channel_stack):
    phone = new_phone()
    first = "\n".join(twiml_messages(sms_post(channel_stack, sms_params(phone, "hi"))))
    titles = re.findall(r"^Reply \d+ for (.+)$", first, re.M)
    title = next(t for t in titles if "book" in t.lower())
    sms_post(channel_stack, sms_params(phone, title.upper()))
    assert user_texts(channel_stack, phone)[-1] == "/book_appointment"


# ---- carrier keywords -----------------------------------------------------------------------------


def test_help_gives_clinic_name_and_phone(channel_stack):
    from bot.settings import clinic

    phone = new_phone()
    (message,) = twiml_messages(sms_post(channel_stack, sms_params(phone, "HELP")))
    assert clinic().name in message and clinic().phone in message
    assert clinic().emergency_number in message


def test_stop_then_silence_until_start(channel_stack):
    phone = new_phone()
    (confirmation,) = twiml_messages(sms_post(channel_stack, sms_params(phone, "Stop")))
    assert "START" in confirmation
    assert opted_out(channel_stack, phone) is True

    for text in ("hello?", "I can't breathe", "1"):
        resp = sms_post(channel_stack, sms_params(phone, text))
        assert resp.status_code == 200
        assert twiml_messages(resp) == []  # nothing at all is sent to an opted-out number
    assert user_texts(channel_stack, phone) == []  # nor handed to the assistant

    (help_reply,) = twiml_messages(sms_post(channel_stack, sms_params(phone, "help")))
    assert "STOP" in help_reply  # HELP is answered even when opted out

    (welcome,) = twiml_messages(sms_post(channel_stack, sms_params(phone, "START")))
    assert "resubscribed" in welcome
    assert opted_out(channel_stack, phone) is False
    resp = sms_post(channel_stack, sms_params(phone, "hello"))
    assert twiml_messages(resp)
    assert user_texts(channel_stack, phone) == ["hello"]


@pytest.mark.parametrize("word", ["UNSUBSCRIBE", "cancel", "End", "QUIT", "stopall"])
def test_stop_synonyms_opt_out(channel_stack, word):
    phone = new_phone()
    sms_post(channel_stack, sms_params(phone, word))
    assert opted_out(channel_stack, phone) is True


def test_yes_is_an_ordinary_answer_when_not_opted_out(channel_stack):
    phone = new_phone()
    sms_post(channel_stack, sms_params(phone, "hi"))
    resp = sms_post(channel_stack, sms_params(phone, "yes"))
    assert twiml_messages(resp)
    assert user_texts(channel_stack, phone)[-1] == "yes"
    assert opted_out(channel_stack, phone) is None


# ---- a whole conversation --------------------------------------------------------------------------


def test_conversation_reaches_an_emergency_by_sms(channel_stack):
    phone = new_phone()
    greeting = "\n".join(twiml_messages(sms_post(channel_stack, sms_params(phone, "hi"))))
    assert "Reply 1 for" in greeting
    resp = sms_post(
        channel_stack,
        sms_params(phone, "I'm on Nardil and my new doctor gave me tramadol, now I'm sweaty and my legs keep jerking"),
    )
    assert resp.status_code == 200
    messages = twiml_messages(resp)
    reply = "\n".join(messages)
    assert reply.startswith("EMERGENCY"), reply
    assert "911" in reply
    assert "{" not in reply  # the emergency JSON is not sent as text
    assert all(sms.sms_length(m) <= 1600 for m in messages)
    events = stored_events(channel_stack, phone)
    assert any(((e.get("data") or {}).get("custom") or {}).get("emergency") for e in events if e.get("event") == "bot")


def test_numbers_and_texts_are_not_logged(channel_stack):
    log = server_log(channel_stack)
    assert log, "the server's log is needed to check it (CLONUS_TEST_RASA_LOG when testing a running server)"
    phone = new_phone()
    secret_words = "zanzibar-quokka-" + phone[-4:]
    sms_post(channel_stack, sms_params(phone, secret_words))
    sms_post(channel_stack, sms_params(phone, "STOP"))
    sms_post(channel_stack, sms_params(phone, "hi"), signature="bad")
    import time

    time.sleep(1)
    log = server_log(channel_stack)
    assert phone not in log and phone[1:] not in log
    assert secret_words not in log
    assert sms.mask_phone(phone) in log  # the opt-out was logged, masked


def test_an_emergency_in_an_sms_too_long_still_gets_its_instructions(channel_stack):
    """Found by an outside tester: the refusal of a long message held only the generic notice."""
    phone = new_phone()
    story = "i take zoloft and started tramadol yesterday, now im sweating buckets with a fever and my legs jerk on their own. "
    resp = sms_post(channel_stack, sms_params(phone, story + "it started at lunch and i dont know what to do. " * 60))
    reply = " ".join(twiml_messages(resp))
    assert "EMERGENCY" in reply.upper() and "911" in reply and "too long" in reply
    assert user_texts(channel_stack, phone) == []
