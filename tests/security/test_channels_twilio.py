# ruff: noqa: F811  (channel_stack, imported from tests/channels/conftest.py, is a fixture)
"""Issue 8, items 3 and 8 (SMS): Twilio's own RequestValidator and MessagingResponse, and MessageSid
de-duplication that survives a restart.

Before the fix the seen-list was in memory (a MessageSid seen before a restart was processed
again) and a signed request without a MessageSid was processed every time.
"""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from tests.channels.conftest import (  # noqa: F401  (channel_stack is a fixture)
    channel_stack,
    new_phone,
    sms_params,
    sms_post,
    twiml_messages,
    user_texts,
)

pytestmark = pytest.mark.e2e


def seen_in_database(stack, message_sid: str) -> bool:
    engine = sa.create_engine(stack.database_url, future=True)
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    sa.text("SELECT count(*) FROM clonus_sms_message_seen WHERE message_sid = :m"), {"m": message_sid}
                ).scalar()
            )
    finally:
        engine.dispose()


def test_a_message_sid_seen_before_a_restart_is_not_processed_again(channel_stack):
    from rasa_ext.channels.twilio_sms import TwilioSmsInput

    phone = new_phone()
    params = sms_params(phone, "hello")
    first = twiml_messages(sms_post(channel_stack, params))
    assert first
    assert seen_in_database(channel_stack, params["MessageSid"])  # kept where a restart cannot lose it
    # A channel that starts afresh (what a restarted server builds) on the same database knows it.
    restarted = TwilioSmsInput(auth_token="restarted", database_url=channel_stack.database_url)
    assert asyncio.run(restarted._first_delivery(params["MessageSid"])) is False
    # And the running server does not process the replay again: it answers with the stored reply.
    again = sms_post(channel_stack, params)
    assert again.status_code == 200 and twiml_messages(again) == first
    assert user_texts(channel_stack, phone) == ["hello"]


@pytest.mark.parametrize("message_sid", [None, "", "not-a-sid", "SM" + "x" * 200])
def test_a_signed_request_without_a_message_sid_is_refused(channel_stack, message_sid):
    phone = new_phone()
    params = sms_params(phone, "hello")
    if message_sid is None:
        del params["MessageSid"]
    else:
        params["MessageSid"] = message_sid
    for _ in range(2):
        resp = sms_post(channel_stack, params)
        assert resp.status_code == 400
        assert "<Message>" not in resp.text
    assert user_texts(channel_stack, phone) == []


def test_twiml_is_written_by_the_twilio_package(channel_stack):
    """The reply parses with the XML the `twilio` package writes for the same messages."""
    from twilio.twiml.messaging_response import MessagingResponse

    phone = new_phone()
    resp = sms_post(channel_stack, sms_params(phone, "HELP"))
    (text,) = twiml_messages(resp)
    expected = MessagingResponse()
    expected.message(text)
    assert resp.text == str(expected)


def test_the_channel_uses_twilio_request_validator_and_keeps_the_fail_closed_guard():
    from twilio.request_validator import RequestValidator

    from rasa_ext.channels.twilio_sms import TwilioSmsInput

    assert isinstance(TwilioSmsInput(auth_token="t").validator, RequestValidator)
    closed = TwilioSmsInput(auth_token=None)
    assert closed.validator is None
    assert not closed.signature_valid(
        type("R", (), {"headers": {"X-Twilio-Signature": "x"}, "url": "http://h/w", "path": "/w", "query_string": ""})(),
        {},
    )
