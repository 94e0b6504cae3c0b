"""Issue 8 item 4: the emergency answer never depends on the action server.

Against the real Rasa server and action server: the action server stopped, frozen (it accepts
connections and never answers: a slow server), killed in the middle of a turn, and restarted. An
emergency still gets the instructions with the number to call, anything else the honest trouble
notice with the numbers, and no reply ever shows an unfilled value ("call None", "{slot}").
"""

from __future__ import annotations

import signal
import threading
import uuid

import pytest

from tests.e2e.stack import Stack, create_postgres_database, drop_postgres_database, texts
from tests.security.server_helpers import (
    CLINIC_PHONE,
    EMERGENCY_TEXT,
    assert_no_unfilled_value,
    freeze_action_server,
    is_emergency,
    is_failsafe,
    talk,
    thaw_action_server,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(trained_model):
    stack = Stack(model=trained_model, database_url=create_postgres_database())
    try:
        yield stack.start()
    finally:
        stack.stop()
        drop_postgres_database(stack.database_url)


@pytest.fixture
def actions_down(stack):
    stack.stop_action_server()
    try:
        yield
    finally:
        stack.start_action_server()


def sender() -> str:
    return "t-" + uuid.uuid4().hex


def test_emergency_on_a_new_conversation_with_the_action_server_stopped(stack, actions_down):
    reply = talk(stack, sender(), EMERGENCY_TEXT, timeout=10)
    assert is_emergency(reply), reply
    assert_no_unfilled_value(reply)


def test_emergency_on_an_existing_conversation_with_the_action_server_stopped(stack):
    who = sender()
    talk(stack, who, "hello")
    stack.stop_action_server()
    try:
        reply = talk(stack, who, EMERGENCY_TEXT, timeout=10)
    finally:
        stack.start_action_server()
    assert reply, "an empty answer hides the emergency"
    assert is_emergency(reply), reply
    assert_no_unfilled_value(reply)


@pytest.mark.parametrize("before", [["I take nardil"], ["I take zoloft and my legs jerk"], ["I have symptoms"], [EMERGENCY_TEXT]])
def test_someone_not_breathing_mid_conversation_with_the_action_server_frozen(stack, before):
    # Outside test, 2026-12-02: after a first exchange about the writer's own medicines or
    # symptoms (or a first emergency), "my husband isnt breathing" got only the trouble notice
    # with the action server stopped (and no emergency with it running).
    who = sender()
    for text in before:
        talk(stack, who, text)
    freeze_action_server(stack)
    try:
        reply = talk(stack, who, "my husband isnt breathing", timeout=10)
    finally:
        thaw_action_server(stack)
    assert is_emergency(reply), reply
    assert_no_unfilled_value(reply)


def test_a_finding_that_rises_to_emergency_with_the_action_server_frozen(stack):
    # Outside test 2: after "I take zoloft and my legs jerk" (SS-SYMPTOMS, urgent, told), the same
    # rule at emergency level got only the trouble notice after 5 s with the action server stopped.
    who = sender()
    talk(stack, who, "I take zoloft and my legs jerk")
    freeze_action_server(stack)
    try:
        reply = talk(stack, who, "he took demerol too and now hes sweating a lot and the jerking is worse", timeout=10)
    finally:
        thaw_action_server(stack)
    assert is_emergency(reply), reply
    assert_no_unfilled_value(reply)


def test_other_message_gets_the_trouble_notice_with_the_numbers(stack, actions_down):
    who = sender()
    reply = talk(stack, who, "hello", timeout=10)
    # "why?" is answered by a custom action (action_explain_triage); answers the Rasa server gives
    # by itself (a greeting, an education topic) need no fail-safe.
    reply += talk(stack, who, "why?", timeout=10)
    assert is_failsafe(reply), reply
    assert "911" in texts(reply) and CLINIC_PHONE in texts(reply), reply
    assert_no_unfilled_value(reply)


def test_emergency_when_the_action_server_is_slow(stack):
    who = sender()
    talk(stack, who, "hello")
    freeze_action_server(stack)
    try:
        # Rasa's own timeout for a custom action is 5 minutes; the emergency must not wait for it.
        reply = talk(stack, who, EMERGENCY_TEXT, timeout=10)
    finally:
        thaw_action_server(stack)
    assert is_emergency(reply), reply
    assert_no_unfilled_value(reply)


def test_emergency_when_the_action_server_is_killed_mid_turn(stack):
    who = sender()
    talk(stack, who, "hello")
    freeze_action_server(stack)
    result = {}

    def turn():
        result["reply"] = talk(stack, who, EMERGENCY_TEXT, timeout=10)

    thread = threading.Thread(target=turn)
    thread.start()
    try:
        threading.Event().wait(0.3)  # the turn is waiting on the frozen action server
        stack.stop_action_server(signal.SIGKILL)
        thread.join(15)
    finally:
        stack.start_action_server()
    assert is_emergency(result.get("reply") or []), result


def test_no_unfilled_clinic_value_after_the_action_server_restarts(stack):
    """A conversation that started while the action server was down later says the real number."""
    who = sender()
    stack.stop_action_server()
    try:
        first = talk(stack, who, "hello", timeout=10)
    finally:
        stack.start_action_server()
    later = talk(stack, who, "I want to talk to a real person")
    later += talk(stack, who, "bye")
    assert_no_unfilled_value(first + later)
    assert CLINIC_PHONE in texts(first + later), first + later
    # Everything up again: the normal answers, not the fail-safe.
    assert not is_failsafe(later), later


def test_the_next_message_after_a_failed_turn_tries_the_action_server_again(stack):
    """A failure is remembered for the rest of its own turn only: once the action server answers
    again, the very next message gets the normal answer, not the fail-safe notice."""
    who = sender()
    talk(stack, who, "hello")
    freeze_action_server(stack)
    try:
        failed = talk(stack, who, "why?", timeout=15)
    finally:
        thaw_action_server(stack)
    assert is_failsafe(failed), failed
    # Straight away (well inside the old 5-second memory of the failure).
    after = talk(stack, who, "why?", timeout=15)
    assert after and not is_failsafe(after), after
