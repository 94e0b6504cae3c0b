"""Admission control over real HTTP (rasa_ext/admission.py): a Rasa server that runs at most one
turn at once and lets nobody wait. Messages that find it busy get the honest fail-safe answer
(the numbers to call, "could not be saved, send it again") and are not stored; the others are
answered and stored once; an emergency is never turned away as busy."""

from __future__ import annotations

import threading
import uuid
from typing import Callable, List

import pytest
import requests

from tests.channels.conftest import (
    WIDGET_PATH,
    ChannelStack,
    conversation_sender,
    new_conversation,
    new_phone,
    sms_params,
    sms_post,
    twiml_messages,
    user_texts,
    visitor,
)
from tests.e2e.stack import create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.e2e

BURST = 8


def own_stack(trained_model, **env: str):
    """A channel stack of its own with these settings, on a throwaway PostgreSQL database."""
    stack = ChannelStack(model=trained_model, database_url=create_postgres_database(), env_extra=env)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        drop_postgres_database(stack.database_url)


@pytest.fixture(scope="module")
def busy_stack(trained_model):
    yield from own_stack(trained_model, CLONUS_MAX_CONCURRENT_TURNS="1", CLONUS_TURN_WAIT_SECONDS="0",
                         CLONUS_SMS_TURN_WAIT_SECONDS="0")


def at_once(calls: List[Callable[[], requests.Response]]) -> List[requests.Response]:
    """Run the calls in threads released together."""
    start = threading.Barrier(len(calls))
    results: List[requests.Response] = [None] * len(calls)  # type: ignore[list-item]

    def go(i: int) -> None:
        start.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def widget_call(stack, conversation: str, text: str, message_id: str) -> Callable[[], requests.Response]:
    client = visitor()
    return lambda: client.post(
        stack.rasa_url + WIDGET_PATH,
        json={"conversation": conversation, "message": text, "message_id": message_id},
        timeout=90,
    )


def test_widget_messages_that_find_the_server_busy_are_told_so_and_not_stored(busy_stack):
    conversations = [new_conversation(busy_stack) for _ in range(BURST)]
    texts = [f"what is clonus, question {i}" for i in range(BURST)]
    results = at_once([widget_call(busy_stack, c, t, str(uuid.uuid4())) for c, t in zip(conversations, texts, strict=True)])
    busy = [i for i, r in enumerate(results) if r.status_code == 503]
    answered = [i for i, r in enumerate(results) if r.status_code == 200]
    assert sorted(busy + answered) == list(range(BURST)), [r.status_code for r in results]
    assert busy, "one turn at a time and no wait: some of 8 simultaneous messages must find it busy"
    assert answered, "the first message of the burst is admitted"
    for i in busy:
        messages = results[i].json()["messages"]
        notice = messages[-1]
        assert notice["custom"]["failsafe"] is True and notice["custom"]["saved"] is False
        assert "911" in notice["text"] and "send it again" in notice["text"]
        assert texts[i] not in user_texts(busy_stack, conversation_sender(conversations[i]))
    for i in answered:
        assert user_texts(busy_stack, conversation_sender(conversations[i])).count(texts[i]) == 1


def test_sms_messages_that_find_the_server_busy_are_told_so_and_not_stored(busy_stack):
    phones = [new_phone() for _ in range(BURST)]
    params = [sms_params(p, f"what causes clonus {i}") for i, p in enumerate(phones)]
    results = at_once([lambda p=p: sms_post(busy_stack, p) for p in params])
    assert all(r.status_code == 200 for r in results), [r.status_code for r in results]
    replies = [" ".join(twiml_messages(r)) for r in results]
    busy = [i for i, text in enumerate(replies) if "having trouble" in text]
    assert busy and len(busy) < BURST, replies
    for i, text in enumerate(replies):
        stored = user_texts(busy_stack, phones[i])
        if i in busy:
            assert "911" in text and "could not be saved" in text
            assert params[i]["Body"] not in stored
        else:
            assert stored.count(params[i]["Body"]) == 1


def test_an_emergency_is_never_turned_away_as_busy(busy_stack):
    emergency = "i take zoloft and started tramadol, now im sweating a lot, fever and my legs are jerking on their own"
    for _burst in range(3):
        conversations = [new_conversation(busy_stack) for _ in range(BURST)]
        calls = [widget_call(busy_stack, c, "how is clonus treated", str(uuid.uuid4())) for c in conversations[1:]]
        calls.insert(BURST // 2, widget_call(busy_stack, conversations[0], emergency, str(uuid.uuid4())))
        results = at_once(calls)
        reply = results[BURST // 2]
        assert reply.status_code == 200, reply.text
        assert any((m.get("custom") or {}).get("emergency") for m in reply.json()), reply.json()
        assert user_texts(busy_stack, conversation_sender(conversations[0])).count(emergency) == 1
        if any(r.status_code == 503 for r in results):
            return  # the emergency came through a burst in which the server was busy
    pytest.fail("no burst found the server busy: the test proved nothing")


@pytest.fixture(scope="module")
def slow_stack(trained_model):
    """A server whose channels answer by the fail-safe path after 50 ms: every turn is 'too slow'."""
    yield from own_stack(trained_model, CLONUS_TURN_DEADLINE_SECONDS="0.05", CLONUS_SMS_TURN_DEADLINE_SECONDS="0.05")


def wait_stored(stack, sender: str, text: str, timeout: float = 60.0) -> int:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = user_texts(stack, sender).count(text)
        if count:
            return count
        time.sleep(0.5)
    return 0


def test_a_turn_past_the_channels_deadline_is_answered_at_once_and_still_stored(slow_stack):
    """Found by an outside tester: under load an emergency waited 60 s for the load balancer's timeout.
    Past the channel's deadline the fail-safe path answers (the emergency instructions first), the
    turn goes on and is stored once, and a resend of the same message id gets the stored reply."""
    emergency = "im on zoloft and took tramadol, now im sweating a lot and my legs jerk on their own"
    conversation = new_conversation(slow_stack)
    message_id = str(uuid.uuid4())
    first = widget_call(slow_stack, conversation, emergency, message_id)()
    assert first.status_code == 503, first.text
    messages = first.json()["messages"]
    assert messages[0]["custom"]["emergency"] is True and "911" in messages[0]["text"]
    assert messages[-1]["custom"]["failsafe"] is True and messages[-1]["custom"]["saved"] is None
    sender = conversation_sender(conversation)
    assert wait_stored(slow_stack, sender, emergency) == 1
    again = widget_call(slow_stack, conversation, emergency, message_id)()
    assert again.status_code == 200, again.text
    assert any((m.get("custom") or {}).get("emergency") for m in again.json())
    assert user_texts(slow_stack, sender).count(emergency) == 1


def test_an_sms_turn_past_the_deadline_gets_the_emergency_instructions_before_twilio_gives_up(slow_stack):
    emergency = "im on zoloft and took tramadol, now im sweating a lot and my legs jerk on their own"
    phone = new_phone()
    resp = sms_post(slow_stack, sms_params(phone, emergency))
    reply = " ".join(twiml_messages(resp))
    assert "EMERGENCY" in reply.upper() and "911" in reply and "may not have been saved" in reply
    assert wait_stored(slow_stack, phone, emergency) == 1
