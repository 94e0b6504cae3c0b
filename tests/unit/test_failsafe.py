"""The fail-safe texts (rasa_ext/failsafe.py) and what they say about the message being kept."""

from __future__ import annotations

import sqlalchemy.exc
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.settings import clinic
from rasa_ext import failsafe, resilience
from rasa_ext.channels import saved_after
from rasa_ext.tracker_store import TrackerStoreUnavailable

EMERGENCY = "I'm on Nardil and my new doctor gave me tramadol, now I'm sweaty and my legs keep jerking"


def test_a_turn_the_database_refused_says_the_message_was_not_saved():
    messages = failsafe.failsafe_messages("what is clonus", saved=False)
    (notice,) = messages
    assert "could not be saved" in notice["text"] and "send it again" in notice["text"]
    assert notice["custom"] == {"failsafe": True, "emergency_number": clinic().emergency_number,
                                "phone": clinic().phone, "saved": False}


def test_an_emergency_the_database_refused_gets_the_instructions_first():
    messages = failsafe.failsafe_messages(EMERGENCY, saved=False)
    assert messages[0]["custom"]["emergency"] is True
    assert clinic().emergency_number in messages[0]["text"]
    assert "could not be saved" in messages[-1]["text"]


def test_an_unknown_failure_says_the_message_may_not_have_been_saved():
    (notice,) = failsafe.failsafe_messages("hello")
    assert "may not have been saved" in notice["text"]


def test_a_stored_turn_says_nothing_about_saving():
    text = failsafe.trouble_message()["text"]
    assert "saved" not in text
    assert clinic().emergency_number in text and clinic().phone in text


def test_what_the_channel_tells_after_each_kind_of_failure():
    assert saved_after(TrackerStoreUnavailable("x")) is False
    assert saved_after(sqlalchemy.exc.OperationalError("stmt", {}, Exception("locked"))) is False
    assert saved_after(RuntimeError("other")) is None
    assert saved_after(None) is True


def _tracker(*events):
    return DialogueStateTracker.from_events("someone", list(events))


def test_a_failure_is_remembered_for_its_own_turn_only():
    """Session start (before the message is in the tracker) and the actions after it are one turn;
    the next message is another."""
    before = _tracker(ActionExecuted("action_listen"))
    first = _tracker(SessionStarted(), ActionExecuted("action_listen"), UserUttered("hi"))
    second = _tracker(SessionStarted(), ActionExecuted("action_listen"), UserUttered("hi"),
                      ActionExecuted("action_listen"), UserUttered("why?"))
    start_key = resilience._turn_key(before, "action_session_start")
    assert start_key == resilience._turn_key(first, "action_triage")
    assert resilience._turn_key(second, "action_triage") != start_key


def test_every_trouble_notice_keeps_the_crisis_line():
    """In an outage the conversation (and whether it is in crisis mode) cannot be read."""
    for saved in (True, False, None):
        assert clinic().crisis_line in failsafe.trouble_message(saved)["text"]


def test_action_server_responses_are_validated_as_rasa_does_with_the_schema_checked_once(monkeypatch):
    import jsonschema
    import pytest
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    cls = validator_for(RemoteAction.action_response_format_spec())
    checks = []
    original = cls.check_schema.__func__
    monkeypatch.setattr(cls, "check_schema", classmethod(lambda c, schema, **kw: checks.append(1) or original(c, schema, **kw)))
    resilience._action_result_validator.cache_clear()
    action = resilience.FailsafeRemoteAction("action_triage", None)
    good = {"events": [{"event": "slot", "name": "triage_level", "value": "urgent"}], "responses": [{"text": "hi"}]}
    for _ in range(5):
        assert action._validate_action_result(good) is True
    assert len(checks) == 1  # jsonschema.validate checked the (large) schema on every response
    with pytest.raises(jsonschema.ValidationError) as error:
        action._validate_action_result({"events": [{"event": "no_such_event"}]})
    assert "Failed to validate Action server response" in error.value.message
