"""Fail-safe decisions told in a turn the database refused, kept until the conversation is stored again.

When the tracker store cannot read or store a turn, the channel answers 503 with the fail-safe
messages (rasa_ext.channels.failsafe_turn): an emergency in the message gets the instructions
with the number to call, and nothing of the turn is stored. The decision record of that
emergency (bot.decision, source `failsafe`, `told_at` the moment it was told) waits here, in this
Rasa server process, and `rasa_ext.tracker_store.DatabaseUrlTrackerStore.save` appends it to the
conversation's next turn that is stored, so staff see that the person was told to call.

Held in memory only: a record is lost when this process stops before the conversation is stored
again, or when the next turn is stored by another Rasa server of the cluster. No message text is
kept, only the record (level, rule ids, the policy's reasons, medicine names). Bounded: the
`MAX_CONVERSATIONS` most recent conversations, `MAX_PER_CONVERSATION` records each.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Dict, List

MAX_CONVERSATIONS = 2000
MAX_PER_CONVERSATION = 5

_pending: "OrderedDict[str, List[Dict[str, Any]]]" = OrderedDict()
_lock = threading.Lock()


def remember(sender_id: str, record: Dict[str, Any]) -> None:
    """Keep a record (Decision.to_dict()) for the conversation's next stored turn."""
    with _lock:
        records = _pending.setdefault(sender_id, [])
        records.append(record)
        del records[:-MAX_PER_CONVERSATION]
        _pending.move_to_end(sender_id)
        while len(_pending) > MAX_CONVERSATIONS:
            _pending.popitem(last=False)


def take(sender_id: str) -> List[Dict[str, Any]]:
    """The conversation's waiting records, oldest first, no longer waiting."""
    with _lock:
        return _pending.pop(sender_id, [])


def put_back(sender_id: str, records: List[Dict[str, Any]]) -> None:
    """Records taken for a save that failed: they wait again, before any newer one."""
    if not records:
        return
    with _lock:
        _pending[sender_id] = (list(records) + _pending.get(sender_id, []))[-MAX_PER_CONVERSATION:]
        _pending.move_to_end(sender_id)
