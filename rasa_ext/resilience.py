"""The Rasa server answers by itself when the action server or the database fails.

Two seams of Rasa 3.6, installed by `install()` (called by the server entry point
rasa_ext/server.py and when the tracker store is loaded, so a plain `rasa run` gets them too):

- Custom actions (rasa.core.actions.action.RemoteAction, what `action_for_name_or_text` builds for
  every action of the action server, form validations included) run under a short timeout. When the
  call fails (refused, reset mid-turn, 5xx, slower than the timeout), the server answers itself
  instead of Rasa's "the actions events are lost": an emergency in the conversation gets the
  emergency message with the number to call (the same engine and text as action_triage, and the
  same slots, so EmergencyPolicy then waits for the person; its decision record, bot.decision with
  source `failsafe`, so staff see that the person was told to call); anything else gets the honest trouble
  notice with the numbers; the turn ends there (FollowupAction(action_listen)) so that nothing
  keeps calling a server that is down. `action_session_start` falls back to Rasa's own session
  start with the clinic slots and the automated-not-a-doctor welcome.
  Timeouts: CLONUS_EMERGENCY_ACTION_TIMEOUT (seconds, default 1.0) for action_session_start and when
  the conversation holds an unannounced or stated emergency, CLONUS_ACTION_TIMEOUT (default 5)
  otherwise. After a failure, the rest of the same turn (the same user message; at most 5 s) is
  answered by the server without calling the action server again; the next message tries again.

- The tracker store: Rasa's Agent wraps every tracker store in FailSafeTrackerStore, which logs a
  failed save and keeps the conversation in memory only, and answers a failed retrieve with a new,
  empty conversation ("I haven't found any warning signs"). Here the wrapper re-raises instead
  (rasa_ext.tracker_store.TrackerStoreUnavailable), so the channel that called the Rasa server
  answers 503 with rasa_ext.failsafe.failsafe_messages and nothing is answered as if stored.
  MessageProcessor.handle_message replaces what a collecting channel gathered during such a turn
  by the fail-safe messages before re-raising, so even a channel that ignores the error (Rasa's
  stock REST channel answers 200 with its collector) cannot send an answer that was not stored.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

from rasa.core.actions import action as rasa_action
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME, REQUESTED_SLOT
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    FollowupAction,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from bot.decision import SLOT as DECISION_SLOT
from bot.decision import Decision, turn_of
from bot.settings import clinic
from rasa_ext import failsafe, turn

logger = logging.getLogger(__name__)


def _seconds(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, "") or default)
    except ValueError:
        value = default
    return value if value > 0 else default


def action_timeout() -> float:
    return _seconds("CLONUS_ACTION_TIMEOUT", 5.0)


def emergency_action_timeout() -> float:
    return _seconds("CLONUS_EMERGENCY_ACTION_TIMEOUT", 1.0)


def pending_emergency(tracker: Any) -> Optional[dict]:
    """The emergency message (and slots) the conversation needs and has not been given, or None.

    Reads the turn's assessment (rasa_ext.turn: the `assessment` slot), the same one EmergencyPolicy
    and the actions read; the engine runs here only for a tracker that did not come through the seam."""
    value = turn.current(tracker)
    if not turn.emergency_due(value, tracker):  # None too: the engine failed, nothing can be named
        return None
    flags = [f["id"] for f in value.get("red_flags") or []]
    assessed = turn.assessment(value)
    message = failsafe.emergency_message(turn.user_texts(tracker), assessment=assessed)
    if message is None:
        return None
    return {"message": message, "red_flags": flags, "assessment": assessed}


# Turns (conversation, user message) whose custom action failed, and when: the other custom
# actions of the same turn (session start, then action_triage, a form's validation) are not
# attempted again, so that a frozen action server costs one timeout per turn, not one per action.
# The next message of the conversation is a new turn and tries the action server again (it may be
# back). Entries older than this many seconds are dropped.
RECENT_FAILURE_SECONDS = 5.0
_recent_failures: Dict[Tuple[str, int], float] = {}


def _turn_key(tracker: Any, action_name: str) -> Tuple[str, int]:
    """(conversation, number of the user message this turn answers). Session start runs before the
    turn's message is in the tracker, so it counts that message ahead."""
    users = sum(1 for e in tracker.events if isinstance(e, UserUttered))
    return (tracker.sender_id, users + 1 if action_name == ACTION_SESSION_START_NAME else users)


def _failed_recently(key: Tuple[str, int]) -> bool:
    now = time.monotonic()
    for old in [k for k, t in _recent_failures.items() if now - t > RECENT_FAILURE_SECONDS]:
        _recent_failures.pop(old, None)
    return key in _recent_failures


@lru_cache(maxsize=1)
def _action_result_validator() -> Any:
    """The validator of Rasa's action-server response schema, built (and the schema checked) once.

    Rasa's RemoteAction._validate_action_result calls jsonschema.validate, which checks the schema
    itself against the JSON Schema meta-schema on every call before it reads the response: about
    two thirds of the Rasa server's CPU time per turn went there (benchmarks/profile_turn.py)."""
    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


class FailsafeRemoteAction(RemoteAction):
    """RemoteAction with a short timeout and an answer of the Rasa server's own when it fails."""

    def _validate_action_result(self, result: Dict[str, Any]) -> bool:
        """Rasa's validation (the same schema, the same error: jsonschema.validate's best match,
        with Rasa's hint appended), with the schema checked once per process, not per response."""
        from jsonschema import exceptions

        error = exceptions.best_match(_action_result_validator().iter_errors(result))
        if error is None:
            return True
        return super()._validate_action_result(result)  # an invalid response: raises Rasa's own error

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        emergency = None
        try:
            emergency = pending_emergency(tracker)
        except Exception:  # noqa: BLE001 - never let the guard itself take the turn down
            logger.error("could not check the conversation for an emergency before %s", self.name())
        # Session start is cheap and comes before the message is in the tracker: it gets the short
        # timeout too, so that an emergency in a new conversation is not kept waiting behind it.
        short = emergency is not None or self.name() == ACTION_SESSION_START_NAME
        timeout = emergency_action_timeout() if short else action_timeout()
        turn = _turn_key(tracker, self.name())
        if _failed_recently(turn):
            logger.error("custom action %s not attempted: the action server just failed", self.name())
            return await self.fallback(output_channel, nlg, tracker, domain, emergency)
        try:
            events = await asyncio.wait_for(super().run(output_channel, nlg, tracker, domain), timeout)
            _recent_failures.pop(turn, None)
            return events
        except ActionExecutionRejection:
            raise
        except asyncio.TimeoutError:
            logger.error("custom action %s took longer than %.1f s: the Rasa server answered by itself", self.name(), timeout)
        except Exception as exc:  # noqa: BLE001 - connection refused/reset, 5xx, bad answer
            logger.error("custom action %s failed (%s): the Rasa server answered by itself", self.name(), type(exc).__name__)
        _recent_failures[turn] = time.monotonic()
        return await self.fallback(output_channel, nlg, tracker, domain, emergency)

    async def fallback(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any, emergency: Optional[dict]) -> List[Event]:
        if self.name() == ACTION_SESSION_START_NAME:
            return await session_start_events(output_channel, nlg, tracker)
        events: List[Event] = []
        if emergency is None:
            try:
                emergency = pending_emergency(tracker)
            except Exception:  # noqa: BLE001 - the trouble notice still goes out
                emergency = None
        if emergency is not None:
            message = dict(emergency["message"])
            if turn.language(tracker) != turn.ENGLISH:
                # The emergency reply in the message's language (domain.yml), as action_triage gives it.
                try:
                    translated = await nlg.generate(turn.EMERGENCY_NOT_ENGLISH_RESPONSE, tracker, output_channel.name())
                except Exception:  # noqa: BLE001 - the English emergency message still goes out
                    logger.error("could not render the emergency reply in the message's language")
                    translated = None
                if translated and (translated.get("custom") or {}).get("emergency"):
                    message = dict(translated)
            events.append(create_bot_utterance(message))
            events += [SlotSet("triage_level", "emergency"), SlotSet("red_flags", emergency["red_flags"])]
            # The decision the person was told, recorded as action_triage records its own (the
            # console shows it in the transcript, marked as the fail-safe's).
            record = failsafe_decision(tracker, emergency.get("assessment"), self.name())
            if record is not None:
                events.append(SlotSet(DECISION_SLOT, record.to_dict()))
            if tracker.active_loop_name:
                events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
        trouble = failsafe.trouble_message()
        if turn.language(tracker) != turn.ENGLISH:
            try:
                translated = await nlg.generate(turn.TROUBLE_NOT_ENGLISH_RESPONSE, tracker, output_channel.name())
            except Exception:  # noqa: BLE001 - the English notice still goes out
                translated = None
            if translated and translated.get("text") and not (translated.get("custom") or {}).get("failsafe"):
                trouble["text"] = translated["text"]  # same custom payload, the message's language
        events.append(create_bot_utterance(trouble))
        events.append(FollowupAction(ACTION_LISTEN_NAME))
        return events


def failsafe_decision(tracker: Any, assessment: Any, action_name: str) -> Optional[Decision]:
    """The record of an emergency the Rasa server told by itself (bot.decision, source `failsafe`)."""
    if assessment is None:
        return None
    try:
        return Decision.of(assessment, "emergency", source="failsafe", action=action_name, turn=turn_of(tracker.events))
    except Exception as exc:  # noqa: BLE001 - the emergency message goes out whatever the record does
        logger.error("could not make the fail-safe decision record (%s)", type(exc).__name__)
        return None


async def session_start_events(output_channel: Any, nlg: Any, tracker: Any) -> List[Event]:
    """What actions/session.py does, done by the Rasa server: carried-over slots, clinic slots, welcome."""
    events: List[Event] = [SessionStarted()]
    for key, value in tracker.current_slot_values().items():
        if value is not None and key != REQUESTED_SLOT:
            events.append(SlotSet(key, value))
    events += [SlotSet(key, value) for key, value in clinic().as_slots().items()]
    if not tracker.get_slot("disclaimer_given"):
        welcome = await nlg.generate("utter_welcome", tracker, output_channel.name(), **clinic().as_slots())
        if welcome:
            events.append(create_bot_utterance(dict(welcome)))
        events.append(SlotSet("disclaimer_given", True))
    events.append(ActionExecuted(ACTION_LISTEN_NAME))
    return events


def _raise(error: Exception) -> None:
    from rasa_ext.tracker_store import TrackerStoreUnavailable

    if isinstance(error, TrackerStoreUnavailable):
        raise error
    raise TrackerStoreUnavailable(type(error).__name__) from error


_installed = False


def install() -> None:
    """Put both seams in place (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    turn.install()
    from rasa_ext import event_types

    event_types.install()
    # action_for_name_or_text builds `RemoteAction(...)` from this module's namespace.
    rasa_action.RemoteAction = FailsafeRemoteAction

    from rasa.core.agent import Agent
    from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore

    def _create_tracker_store(store: Any, domain: Any) -> Any:
        if store is not None:
            store.domain = domain
            return FailSafeTrackerStore(store, on_tracker_store_error=_raise)
        return FailSafeTrackerStore(InMemoryTrackerStore(domain))

    Agent._create_tracker_store = staticmethod(_create_tracker_store)

    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.processor import MessageProcessor

    from rasa_ext.tracker_store import TrackerStoreUnavailable

    handle_message = MessageProcessor.handle_message

    async def handle_message_or_refuse(self: Any, message: Any) -> Any:
        try:
            return await handle_message(self, message)
        except TrackerStoreUnavailable:
            # What was collected for this turn must not go out as if it were stored: a channel
            # that answers with its collector despite the error sends the fail-safe notice (and
            # the emergency message when the text is one) instead. The channel decides the status.
            out = message.output_channel
            if isinstance(out, CollectingOutputChannel):
                out.messages[:] = [
                    out._message(message.sender_id, text=m["text"], custom=m.get("custom"))
                    for m in failsafe.failsafe_messages(message.text or "", saved=False)
                ]
            raise

    MessageProcessor.handle_message = handle_message_or_refuse
