"""The Rasa server reads a stored conversation's events without walking Event's subclasses per event."""

from __future__ import annotations

import inspect

import pytest
import rasa.shared.utils.common
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

from rasa_ext import resilience


def _first_named(type_name):
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        if cls.type_name == type_name:
            return cls
    return None


def test_every_event_name_resolves_to_the_class_rasa_finds():
    resilience.install()
    names = {cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event) if not inspect.isabstract(cls)}
    assert len(names) > 15
    for name in names:
        assert Event.resolve_by_type(name) is _first_named(name)
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")


def test_reading_a_conversation_walks_the_event_classes_at_most_once(monkeypatch):
    resilience.install()
    walks = []
    walk = rasa.shared.utils.common.all_subclasses
    monkeypatch.setattr(rasa.shared.utils.common, "all_subclasses", lambda cls: walks.append(cls) or walk(cls))
    stored = [e.as_dict() for e in (ActionExecuted("action_listen"), UserUttered("hi"), SlotSet("x", 1))] * 20
    events = [Event.from_parameters(d) for d in stored]
    assert [type(e) for e in events[:3]] == [ActionExecuted, UserUttered, SlotSet]
    assert len(walks) <= 1  # Rasa's own lookup walked them for each of the 60 events
