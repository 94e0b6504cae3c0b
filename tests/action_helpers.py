"""Real rasa_sdk Trackers and dispatchers for action tests (no mocks)."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from tests.conftest import ROOT

_DOMAIN: Optional[Dict[str, Any]] = None


def domain() -> Dict[str, Any]:
    """The project's domain.yml as the action server receives it (a dict)."""
    global _DOMAIN
    if _DOMAIN is None:
        _DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
    return _DOMAIN


def user_event(text: str, intent: str = "report_symptom", entities: Optional[List[dict]] = None) -> Dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": 0.99}, "entities": entities or [], "text": text},
    }


def make_tracker(
    messages: Optional[List[str]] = None,
    slots: Optional[Dict[str, Any]] = None,
    active_loop: Optional[str] = None,
    intent: str = "report_symptom",
    events: Optional[List[Dict[str, Any]]] = None,
    sender_id: str = "test-conversation",
) -> Tracker:
    """A Tracker whose events hold the given user messages (oldest first); the last is the latest."""
    evts = list(events or [])
    for text in messages or []:
        evts.append({"event": "action", "name": "action_listen"})
        evts.append(user_event(text, intent))
    latest = evts[-1]["parse_data"] if evts and evts[-1].get("event") == "user" else {"intent": {}, "entities": []}
    latest = dict(latest)
    if evts and evts[-1].get("event") == "user":
        latest["text"] = evts[-1]["text"]
    all_slots = {name: (spec or {}).get("initial_value") for name, spec in domain()["slots"].items()}
    all_slots.update(slots or {})
    return Tracker(
        sender_id=sender_id,
        slots=all_slots,
        latest_message=latest,
        events=evts,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def responses(dispatcher: CollectingDispatcher) -> List[str]:
    return [m.get("response") for m in dispatcher.messages if m.get("response")]


def slot_values(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def run(action, tracker: Tracker):
    """Runs a custom action on a tracker as the action server would: (dispatcher, events)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain()))
    return dispatcher, events
