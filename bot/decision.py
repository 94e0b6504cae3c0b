"""One triage decision as it is stored: the record that the tracker carries and the console reads.

Whoever tells the person a triage outcome (the action server's `action_triage` and symptom-form
submit, or the Rasa server's fail-safe when the action server is down) makes one `Decision` and
puts it on the tracker as one event, the slot `triage_decision` (docs/ARCHITECTURE.md). It is
stored with the turn's other events, in the same transaction, so staff see a decision exactly when
its turn is in the transcript. Plain data, no Rasa: the actions, the Rasa server and the console
all read it with `Decision.from_dict`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

from bot.vocab import LEVELS

if TYPE_CHECKING:  # the console reads records without loading the triage engine
    from bot.triage import Assessment

#: The slot (and the name of its SlotSet events) that carries a decision record.
SLOT = "triage_decision"
#: Who made the decision: the action server, or the Rasa server's fail-safe (action server down).
SOURCES = ("action", "failsafe")
VERSION = 1


@dataclass(frozen=True)
class Decision:
    """What the person was told: a level, the rules behind it and their plain reasons, the medicines read."""

    level: str
    rule_ids: List[str] = field(default_factory=list)
    reasons: List[str] = field(default_factory=list)  # one plain sentence per rule (the policy's words)
    medications: List[Dict[str, Any]] = field(default_factory=list)  # {"name", "status", "classes"}
    source: str = "action"
    action: str = ""  # the action that told it (action_triage, action_submit_symptom_form, ...)
    turn: Optional[str] = None  # message_id of the user message the decision answers
    # When the person was told, when that is not its event's time: a fail-safe emergency told in a
    # turn the database refused (503), stored with the conversation's next stored turn.
    told_at: Optional[float] = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)  # the same record seen twice is one decision

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown triage level {self.level!r}")
        if self.source not in SOURCES:
            raise ValueError(f"unknown decision source {self.source!r}")

    @classmethod
    def of(
        cls,
        assessment: Assessment,
        level: Optional[str] = None,
        source: str = "action",
        action: str = "",
        turn: Optional[str] = None,
        told_at: Optional[float] = None,
    ) -> "Decision":
        """The record of telling `assessment` at `level` (default: its own level)."""
        return cls(
            level=level or assessment.triage_level,
            rule_ids=[f.id for f in assessment.red_flags],
            reasons=[f.reason for f in assessment.red_flags],
            medications=[{"name": m.name, "status": m.status, "classes": list(m.classes)} for m in assessment.medications],
            source=source,
            action=action,
            turn=turn,
            told_at=told_at,
        )

    def to_dict(self) -> Dict[str, Any]:
        return {
            "version": VERSION,
            "id": self.id,
            "level": self.level,
            "rule_ids": list(self.rule_ids),
            "reasons": list(self.reasons),
            "medications": [dict(m) for m in self.medications],
            "source": self.source,
            "action": self.action,
            "turn": self.turn,
            "told_at": self.told_at,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Optional["Decision"]:
        """The record of a slot value, or None when it is not one (the console reads stored JSON)."""
        if not isinstance(data, dict) or data.get("level") not in LEVELS or not data.get("id"):
            return None
        source = data.get("source") if data.get("source") in SOURCES else "action"
        return cls(
            level=str(data["level"]),
            rule_ids=_strings(data.get("rule_ids")),
            reasons=_strings(data.get("reasons")),
            medications=[dict(m) for m in data.get("medications") or [] if isinstance(m, dict) and m.get("name")],
            source=source,
            action=str(data.get("action") or ""),
            turn=str(data["turn"]) if data.get("turn") else None,
            told_at=float(data["told_at"]) if isinstance(data.get("told_at"), (int, float)) else None,
            id=str(data["id"]),
        )


def _strings(value: Any) -> List[str]:
    return [str(v) for v in value or [] if isinstance(v, (str, int, float))] if isinstance(value, (list, tuple)) else []


def turn_of(events: Sequence[Any]) -> Optional[str]:
    """The message_id of the latest user message among `events` (dicts, as the action server gets
    them, or Rasa events with `message_id`), the turn a decision made now answers."""
    for event in reversed(list(events)):
        if isinstance(event, dict):
            if event.get("event") == "user":
                return event.get("message_id") or None
        elif getattr(event, "type_name", None) == "user":
            return getattr(event, "message_id", None) or None
    return None
