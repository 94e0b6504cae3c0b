# ruff: noqa: F811  (channel_stack, imported from tests/channels/conftest.py, is a fixture)
"""Issue 8, item 4 on the channels: a turn the Rasa server fails on (here: the database refuses to
store it) is answered 503 on the widget and by SMS with the fail-safe messages: the emergency
instructions when the text is an emergency, and always the honest trouble notice with the numbers.

The failure is real: a PostgreSQL trigger refuses inserts into Rasa's `events` table for the
conversations a test names, so the tracker store's save fails. (It reaches the channel as an
exception once the tracker store stops falling back silently to memory: branch h8-server.)
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import pytest
import sqlalchemy as sa

from bot.settings import clinic
from tests.channels.conftest import (  # noqa: F401  (channel_stack is a fixture)
    channel_stack,
    conversation_sender,
    new_conversation,
    new_phone,
    sms_params,
    sms_post,
    twiml_messages,
    visitor,
    widget_post,
)

pytestmark = pytest.mark.e2e

EMERGENCY_TEXT = "I'm on Nardil and my new doctor gave me tramadol, now I'm sweaty and my legs keep jerking"

TRIGGER = """
CREATE TABLE IF NOT EXISTS clonus_test_refuse_events (sender_id varchar(255) PRIMARY KEY);
CREATE OR REPLACE FUNCTION clonus_test_refuse_events() RETURNS trigger AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM clonus_test_refuse_events WHERE sender_id = NEW.sender_id) THEN
    RAISE EXCEPTION 'test: the database refuses this conversation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS clonus_test_refuse_events ON events;
CREATE TRIGGER clonus_test_refuse_events BEFORE INSERT ON events
  FOR EACH ROW EXECUTE FUNCTION clonus_test_refuse_events();
"""


@contextlib.contextmanager
def database_refuses(stack, sender: str) -> Iterator[None]:
    engine = sa.create_engine(stack.database_url, future=True)
    if engine.dialect.name != "postgresql":
        pytest.fail("these tests need the PostgreSQL test database (tests/channels/conftest.py)")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(TRIGGER))
            conn.execute(sa.text("INSERT INTO clonus_test_refuse_events VALUES (:s)"), {"s": sender})
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM clonus_test_refuse_events WHERE sender_id = :s"), {"s": sender})
        engine.dispose()


def assert_trouble_notice(text: str) -> None:
    c = clinic()
    assert "trouble" in text and c.emergency_number in text and c.phone in text, text
    assert "None" not in text and "{" not in text
    # The person is told the message was not kept (finding A: nobody should believe the assistant
    # remembers a warning it could not store).
    assert "could not be saved" in text and "send it again" in text, text


@pytest.mark.parametrize("emergency", [False, True])
def test_widget_turn_that_cannot_be_stored_gets_503_with_the_failsafe_messages(channel_stack, emergency):
    client = visitor()
    conversation = new_conversation(channel_stack, client)
    with database_refuses(channel_stack, conversation_sender(conversation)):
        resp = widget_post(channel_stack, conversation, EMERGENCY_TEXT if emergency else "what is clonus", client)
    assert resp.status_code == 503, resp.text[:500]
    messages = resp.json()["messages"]
    assert_trouble_notice(messages[-1]["text"])
    assert messages[-1]["custom"]["saved"] is False
    emergencies = [m for m in messages if (m.get("custom") or {}).get("emergency") is True]
    if emergency:
        (message,) = emergencies
        assert clinic().emergency_number in message["text"]
        assert message["custom"]["emergency_number"] == clinic().emergency_number
    else:
        assert emergencies == []


@pytest.mark.parametrize("emergency", [False, True])
def test_sms_turn_that_cannot_be_stored_gets_the_failsafe_reply(channel_stack, emergency):
    phone = new_phone()
    with database_refuses(channel_stack, phone):
        resp = sms_post(channel_stack, sms_params(phone, EMERGENCY_TEXT if emergency else "what is clonus"))
    assert resp.status_code == 200
    reply = "\n".join(twiml_messages(resp))
    assert_trouble_notice(reply)
    assert reply.startswith("EMERGENCY") == emergency, reply
