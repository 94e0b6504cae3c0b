"""Export of the filtered conversation list: one record shape and one CSV writer for the web
console and the command line."""

from __future__ import annotations

import csv
from datetime import timezone
from typing import IO, Any, Iterable

from console.privacy import csv_safe, display_conversation_id

FIELDS = (
    "ref",
    "conversation",
    "first_at",
    "last_at",
    "channel",
    "triage_level",
    "rule_ids",
    "messages",
    "reviewed",
    "reviewed_by",
    "reviewed_at",
)


def _iso(value: Any) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None


def records(rows: Iterable[Any], role: str | None) -> list[dict[str, Any]]:
    """Conversation rows as export records; the conversation id is masked unless the role needs it."""
    return [
        {
            "ref": r.ref,
            "conversation": display_conversation_id(r.conversation_id, role, "export"),
            "first_at": _iso(r.first_at),
            "last_at": _iso(r.last_at),
            "channel": r.channel,
            "triage_level": r.triage_level,
            "rule_ids": r.rule_ids,
            "messages": r.message_count,
            "reviewed": r.reviewed,
            "reviewed_by": r.reviewed_by,
            "reviewed_at": _iso(r.reviewed_at),
        }
        for r in rows
    ]


def write_csv(recs: Iterable[dict[str, Any]], out: IO[str]) -> None:
    """CSV with formula-like cells defused (a cell starting with = + - @ is not run by a spreadsheet)."""
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    for r in recs:
        cells = [" ".join(v) if isinstance(v, list) else v for v in (r[k] for k in FIELDS)]
        writer.writerow([csv_safe("" if c is None else c) for c in cells])
