"""Rasa's event-name lookup, with the answer kept (the Rasa server's CPU per turn).

`rasa.shared.core.events.Event.resolve_by_type(name)` walks every subclass of Event (recursively,
calling inspect.isabstract on each) for every event it reads: a tracker read from the SQL tracker
store deserialises each of its events that way, so the walk ran for every event of the
conversation on every turn (2.2 of 58.8 s in a cProfile of 60 turns, benchmarks/profile_turn.py).
`install()` (called by rasa_ext.resilience.install) replaces it by a lookup in a table built from
the same walk, in the same order (the first class with the name wins, as in Rasa); a name that is
not in the table walks again (an Event subclass imported later is found) before answering as Rasa
does (None for the old "topic", the default, or ValueError).
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Optional

_table: Dict[str, Any] = {}
_lock = threading.Lock()
_installed = False


def _rebuild() -> None:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    table: Dict[str, Any] = {}
    for cls in all_subclasses(Event):
        table.setdefault(cls.type_name, cls)
    with _lock:
        _table.clear()
        _table.update(table)


def resolve_by_type(type_name: str, default: Optional[Any] = None) -> Optional[Any]:
    """Event.resolve_by_type: the Event class named `type_name`."""
    found = _table.get(type_name)
    if found is None:
        _rebuild()
        found = _table.get(type_name)
    if found is not None:
        return found
    if type_name == "topic":
        return None  # Rasa's backwards compatibility for old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def install() -> None:
    """Put the lookup in place (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    from rasa.shared.core.events import Event

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]
