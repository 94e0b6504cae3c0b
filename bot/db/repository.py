"""Small write/read helpers that actions, channels and the console call (re-exported by bot.db)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.db.models import (
    LEVEL_RANK,
    LEVELS,
    AppointmentRequest,
    AuditLog,
    SmsMorePage,
    SmsOptOut,
    TriageAssessment,
    utcnow,
)

log = logging.getLogger(__name__)


def _session_scope(url: str | None, write: bool = True):  # type: ignore[no-untyped-def]
    from bot.db import session_scope  # late: bot.db imports this module

    return session_scope(url, write=write)


def _check_level(level: str | None, allow_none: bool = False) -> None:
    if level is None and allow_none:
        return
    if level not in LEVEL_RANK:
        raise ValueError(f"unknown triage level {level!r}; expected one of {', '.join(LEVELS)}")


def record_appointment_request(
    conversation_id: str,
    patient_name: str,
    phone_e164: str,
    preferred_time: datetime | None,
    reason: str | None,
    triage_level: str | None,
    url: str | None = None,
    idempotency_key: str | None = None,
    turn_timestamp: float | None = None,
) -> int:
    """Store a booking request (status `new`) and return its id.

    With an `idempotency_key`, a request already stored under that key is returned instead of a
    new one (a turn resent after the Rasa server refused to store it; two racing attempts meet the
    unique constraint and the loser returns the winner's id); it now belongs to this attempt's
    turn (`turn_timestamp`, the user message's timestamp: staff see it once that turn is stored,
    `in_transcript`)."""
    _check_level(triage_level, allow_none=True)
    for attempt in (1, 2):
        try:
            with _session_scope(url) as s:
                if idempotency_key is not None:
                    existing = s.execute(
                        sa.select(AppointmentRequest).where(AppointmentRequest.idempotency_key == idempotency_key)
                    ).scalar_one_or_none()
                    if existing is not None:
                        if turn_timestamp is not None and existing.turn_timestamp != turn_timestamp:
                            existing.turn_timestamp = turn_timestamp
                        log.info("appointment request %s already stored for this turn", existing.id)
                        return int(existing.id)
                row = AppointmentRequest(
                    conversation_id=conversation_id,
                    patient_name=patient_name,
                    phone_e164=phone_e164,
                    preferred_time=preferred_time,
                    reason=reason,
                    triage_level=triage_level,
                    status="new",
                    idempotency_key=idempotency_key,
                    turn_timestamp=turn_timestamp,
                )
                s.add(row)
                s.flush()
                # the conversation id is the phone number on SMS channels: never logged
                log.info("appointment request %s stored", row.id)
                return int(row.id)
        except sa.exc.IntegrityError:
            if idempotency_key is None or attempt == 2:
                raise
    raise AssertionError("unreachable")


def record_assessment(
    conversation_id: str,
    level: str,
    rule_ids: Iterable[str],
    reasons: Iterable[str],
    medications: Any,
    url: str | None = None,
    idempotency_key: str | None = None,
    turn_timestamp: float | None = None,
    decision_id: str | None = None,
    source: str | None = None,
) -> int:
    """Store one triage decision of a conversation and return its id.

    `decision_id`, `source`: the decision record (bot.decision) the row projects; a row for a record
    that already has one is not written again (its id is returned).

    With an `idempotency_key`, the row already stored under that key (the refused attempt of the
    same turn) is replaced: deleted and written again with a new id, so that the console's
    incremental summary (ids above its mark) sees the new decision. `turn_timestamp`: the user
    message of the turn that wrote it (staff see it once that turn is stored, `in_transcript`)."""
    _check_level(level)
    for attempt in (1, 2):
        try:
            with _session_scope(url) as s:
                if decision_id is not None:
                    existing = s.execute(
                        sa.select(TriageAssessment.id).where(TriageAssessment.decision_id == decision_id)
                    ).scalar_one_or_none()
                    if existing is not None:
                        return int(existing)
                if idempotency_key is not None:
                    s.execute(sa.delete(TriageAssessment).where(TriageAssessment.idempotency_key == idempotency_key))
                row = TriageAssessment(
                    conversation_id=conversation_id,
                    level=level,
                    rule_ids=list(rule_ids),
                    reasons=list(reasons),
                    medications=medications if medications is not None else [],
                    idempotency_key=idempotency_key,
                    turn_timestamp=turn_timestamp,
                    decision_id=decision_id,
                    source=source,
                )
                s.add(row)
                s.flush()
                return int(row.id)
        except sa.exc.IntegrityError:
            if idempotency_key is None or attempt == 2:
                raise
    raise AssertionError("unreachable")


def in_transcript(model: Any, has_events: bool = True) -> Any:
    """SQL condition: this row of `model` (AppointmentRequest, TriageAssessment) belongs to a turn
    that is in the conversation's stored transcript, or to no turn (`turn_timestamp` NULL).

    The action server writes its rows while the turn runs, before the Rasa server stores the turn;
    when that save fails (503, "please send it again") the rows stay, for a turn that is not in the
    transcript, until a resend of the same turn takes them over (`idempotency_key`). Staff are shown
    only rows whose turn's user message is in Rasa's `events` (same conversation, same timestamp):
    visible exactly when the turn is, in the same transaction as its events, and nothing is deleted.
    `has_events=False` (no `events` table yet): only rows of no turn."""
    from bot.db.tracker import events

    no_turn = model.turn_timestamp.is_(None)
    if not has_events:
        return no_turn
    stored = (
        sa.select(events.c.id)
        .where(
            events.c.sender_id == model.conversation_id,
            events.c.type_name == "user",
            # The same float both ways (the action server gets it in the tracker's JSON); the
            # window only absorbs a rounding of a backend, far below two messages' distance.
            events.c.timestamp.between(model.turn_timestamp - 1e-6, model.turn_timestamp + 1e-6),
        )
        .exists()
    )
    return sa.or_(no_turn, stored)


def set_sms_opt_out(phone_e164: str, opted_out: bool, url: str | None = None) -> None:
    """Record that a phone number opted out of (or back into) SMS."""
    with _session_scope(url) as s:
        row = s.get(SmsOptOut, phone_e164)
        if row is None:
            s.add(SmsOptOut(phone_e164=phone_e164, opted_out=bool(opted_out)))
        else:
            row.opted_out = bool(opted_out)
            row.updated_at = utcnow()


def is_sms_opted_out(phone_e164: str, url: str | None = None) -> bool:
    with _session_scope(url, write=False) as s:
        value = s.execute(sa.select(SmsOptOut.opted_out).where(SmsOptOut.phone_e164 == phone_e164)).scalar_one_or_none()
        return bool(value)


def save_sms_pages(
    conversation_id: str, pages: list[str], keep: timedelta, url: str | None = None, now: datetime | None = None
) -> None:
    """Keep `pages` (in order) as the rest of the conversation's last reply, replacing what it had
    (a new reply makes the old rest meaningless; `[]` only clears it); they expire after `keep`.
    Expired pages of every conversation are deleted on the way."""
    now = now or utcnow()
    with _session_scope(url) as s:
        s.execute(sa.delete(SmsMorePage).where(SmsMorePage.expires_at <= now))
        s.execute(sa.delete(SmsMorePage).where(SmsMorePage.conversation_id == conversation_id))
        for seq, text in enumerate(pages, start=1):
            s.add(SmsMorePage(conversation_id=conversation_id, seq=seq, text=text, expires_at=now + keep))


def take_sms_page(conversation_id: str, url: str | None = None, now: datetime | None = None) -> str | None:
    """The conversation's next page, removed as it is taken, so that each page is given once even
    when two MOREs arrive at once on two servers (the DELETE's row count decides which of them
    got it; the other one takes the following page). None when none is left or they expired."""
    now = now or utcnow()
    for _ in range(20):
        with _session_scope(url) as s:
            row = s.execute(
                sa.select(SmsMorePage.seq, SmsMorePage.text)
                .where(SmsMorePage.conversation_id == conversation_id, SmsMorePage.expires_at > now)
                .order_by(SmsMorePage.seq)
                .limit(1)
            ).first()
            if row is None:
                return None
            taken = s.execute(
                sa.delete(SmsMorePage).where(SmsMorePage.conversation_id == conversation_id, SmsMorePage.seq == row.seq)
            ).rowcount
            if taken == 1:
                return str(row.text)
    return None


def audit(
    session: sa.orm.Session,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict | None = None,
) -> None:
    """Append one audit entry in the caller's transaction (never patient text in `detail`)."""
    session.add(AuditLog(actor=actor, action=action, target=target, detail=detail or {}))
