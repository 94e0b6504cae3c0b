"""Reading conversations for the console: keeps the per-conversation summary table up to date from
Rasa's `events` (the triage decision records among them, `told()`) and the older triage rows, and
answers the list, transcript, dashboard and export.

Every query binds user input as parameters; nothing the user types becomes SQL text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.db import in_transcript, session_scope
from bot.db.models import (
    LEVEL_RANK,
    LEVELS,
    Alert,
    AppointmentRequest,
    ConversationReview,
    ConversationSummary,
    ConversationText,
    ReviewNote,
    SmsMorePage,
    SyncState,
    TriageAssessment,
)
from bot.db.tracker import events
from bot.decision import SLOT as DECISION_SLOT
from bot.decision import Decision as Record
from console import params

log = logging.getLogger(__name__)

UTC = timezone.utc  # noqa: UP017  (Python 3.10)
SEARCH_TEXT_LIMIT = 20_000  # characters of text kept per conversation for search
PAGE_SIZE = 50


def _loads(data: str | None) -> dict:
    if not data:
        return {}
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _rule_ids_of(value: Any) -> list[str]:
    """red_flags slot value: a list of rule ids (or of {"id": ...} dicts in older trackers)."""
    out: list[str] = []
    for item in value or []:
        rid = item.get("id") if isinstance(item, dict) else item
        if isinstance(rid, str) and rid:
            out.append(rid)
    return out


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


# --- summary sync --------------------------------------------------------------------------------


def events_table_exists(s: Session) -> bool:
    return sa.inspect(s.connection()).has_table("events")


_events_table_exists = events_table_exists


def _marks(s: Session, lock: bool = False) -> dict[str, int]:
    q = sa.select(SyncState)
    if lock:
        q = q.with_for_update()
    return {row.name: int(row.value) for row in s.execute(q).scalars()}


def _set_mark(s: Session, name: str, value: int) -> None:
    row = s.get(SyncState, name)
    if row is None:
        s.add(SyncState(name=name, value=value))
    else:
        row.value = value


@dataclass
class _Acc:
    first: float | None = None
    last: float | None = None
    channel: str | None = None
    rank: int = -1
    rules: list[str] = field(default_factory=list)
    messages: int = 0
    text: list[str] = field(default_factory=list)

    def at(self, ts: float | None) -> None:
        if ts is None:
            return
        self.first = ts if self.first is None else min(self.first, ts)
        self.last = ts if self.last is None else max(self.last, ts)

    def level(self, level: Any) -> None:
        if isinstance(level, str) and level in LEVEL_RANK:
            self.rank = max(self.rank, LEVEL_RANK[level])

    def rule(self, ids: list[str]) -> None:
        for rid in ids:
            if rid not in self.rules:
                self.rules.append(rid)


def _accumulate(type_name: str, ts: float | None, data: str | None, acc: _Acc) -> None:
    if type_name in ("user", "bot"):
        d = _loads(data)
        acc.at(ts)
        acc.messages += 1
        if type_name == "user":
            acc.channel = acc.channel or d.get("input_channel")
        if d.get("text"):
            acc.text.append(str(d["text"]).lower())
    elif type_name == "slot":
        d = _loads(data)
        if d.get("name") == "red_flags":
            # Rules told to the person (a superset of the decisions' rules): crisis mode is never
            # lost from the list. The level comes from the decisions alone (told()).
            acc.rule(_rule_ids_of(d.get("value")))
    else:
        acc.at(ts)


@dataclass
class Told:
    """One triage decision of a conversation, as staff see it once: a decision record (the
    `triage_decision` event, bot.decision) or, for conversations stored before records existed,
    a `triage_level` slot event with the `red_flags` set beside it (`kind` "triage")."""

    kind: str  # decision | triage
    key: str  # decision:<record id> | slot:<timestamp>
    ts: float
    level: str
    rule_ids: list[str]
    record: Record | None = None
    turn_at: float | None = None  # timestamp of the user message the decision follows
    index: int = 0  # its event's position in the events given to told()


def told(evs: list[tuple[str, float | None, str | None]]) -> list[Told]:
    """The decisions among one conversation's events (type_name, timestamp, data), in order.

    Each record counts once (a record seen again, e.g. carried into a new session, is the same
    decision). A conversation that holds records has no other decisions among its events: its
    `triage_level` / `red_flags` slot events only keep the dialogue's state. One without records
    (stored before them) reads its `triage_level` slot events as decisions, as the console did."""
    out: list[Told] = []
    seen: set[str] = set()
    turn_at: float | None = None
    for i, (type_name, ts, data) in enumerate(evs):
        if type_name == "user":
            turn_at = ts
        elif type_name == "slot" and ts is not None and DECISION_SLOT in (data or ""):
            d = _loads(data)
            record = Record.from_dict(d.get("value")) if d.get("name") == DECISION_SLOT else None
            if record is not None and record.id not in seen:
                seen.add(record.id)
                at = record.told_at if record.told_at is not None else ts  # told earlier: a refused turn's
                out.append(
                    Told("decision", f"decision:{record.id}", at, record.level, list(record.rule_ids), record, turn_at, i)
                )
    if out:
        return out
    for i, (type_name, ts, data) in enumerate(evs):
        if type_name != "slot" or ts is None:
            continue
        d = _loads(data)
        if d.get("name") == "triage_level" and d.get("value") in LEVEL_RANK:
            out.append(Told("triage", f"slot:{ts:.6f}", ts, str(d["value"]), [], index=i))
        elif d.get("name") == "red_flags" and out and abs(out[-1].ts - ts) <= 2:
            out[-1].rule_ids = _rule_ids_of(d.get("value"))  # the action sets red_flags with triage_level
    return out


#: Broker events of a conversation, as (type_name, timestamp, data JSON). They only say which
#: conversations to recompute: a conversation is recomputed from this deployment's own stored
#: events, never from a broker message's content (an event is published only after the tracker
#: store committed it, rasa_ext/tracker_store.py). See apply_events.
Extra = dict[str, list[tuple[str, float, str]]]


@dataclass
class Decision:
    """An emergency or urgent triage decision of a conversation (a candidate alert)."""

    key: str
    level: str
    at: datetime
    rule_ids: list[str]


ALERT_LEVELS = ("urgent", "emergency")
# Two decisions of one level in one conversation closer than this are one alert (the assessment row
# the action writes and the triage_level slot event Rasa stores a moment later).
ALERT_SAME_DECISION = timedelta(seconds=60)


def alert_max_age() -> timedelta:
    """Decisions older than this (CLONUS_ALERT_MAX_AGE seconds, 3600) raise no alert when first
    seen: a consumer catching up after a long gap, or started on an old database, does not flood
    the banner with history."""
    return timedelta(seconds=float(os.environ.get("CLONUS_ALERT_MAX_AGE", "3600") or 3600))


def event_key(type_name: str, ts: float | None, data: str | None) -> tuple:
    """An event's identity for merging broker and stored events: its type, timestamp and content
    (two slot events of one action can share type and timestamp)."""
    try:
        content = json.dumps(json.loads(data or "{}"), sort_keys=True)
    except ValueError:
        content = data or ""
    return (type_name, ts, content)


def _rebuild(s: Session, ids: list[str], has_events: bool) -> dict[str, list[Decision]]:
    """Recompute the summaries of `ids` from all their events and assessments (idempotent: the
    result depends only on the set of events). Returns each conversation's urgent and emergency
    decisions (candidate alerts)."""
    accs: dict[str, _Acc] = {cid: _Acc() for cid in ids}
    decisions: dict[str, list[Decision]] = {cid: [] for cid in ids}
    rows: list = []
    if has_events:
        rows = list(
            s.execute(
                sa.select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
                .where(events.c.sender_id.in_(ids), events.c.type_name.in_(("user", "bot", "slot", "session_started")))
                .order_by(events.c.id)
            )
        )
    by_sender: dict[str, list[tuple[str, float | None, str | None]]] = {cid: [] for cid in ids}
    for sender, type_name, ts, data in rows:
        _accumulate(type_name, ts, data, accs[sender])
        by_sender[sender].append((type_name, ts, data))
    records: dict[str, list[Told]] = {}
    for cid, evs in by_sender.items():
        for t in told(evs):
            accs[cid].level(t.level)
            accs[cid].rule(t.rule_ids)
            if t.level in ALERT_LEVELS:
                decisions[cid].append(Decision(t.key, t.level, _ts(t.ts), list(t.rule_ids)))  # type: ignore[arg-type]
            if t.record is not None:
                records.setdefault(cid, []).append(t)
    _project(s, records)
    for aid, cid, level, rule_ids, created, decision_id in s.execute(
        sa.select(
            TriageAssessment.id,
            TriageAssessment.conversation_id,
            TriageAssessment.level,
            TriageAssessment.rule_ids,
            TriageAssessment.created_at,
            TriageAssessment.decision_id,
        )
        .where(TriageAssessment.conversation_id.in_(ids), in_transcript(TriageAssessment, has_events))
        .order_by(TriageAssessment.id)
    ):
        if decision_id is not None and decision_id in {t.record.id for t in records.get(cid, []) if t.record}:
            continue  # the row of a record counted above
        accs[cid].level(level)
        accs[cid].rule(_rule_ids_of(rule_ids))
        accs[cid].at(created.timestamp() if created else None)
        if level in ALERT_LEVELS and created is not None:
            decisions[cid].append(Decision(f"assessment:{aid}", level, created, _rule_ids_of(rule_ids)))
    summaries = {
        r.conversation_id: r
        for r in s.execute(sa.select(ConversationSummary).where(ConversationSummary.conversation_id.in_(ids))).scalars()
    }
    texts = {
        t.conversation_id: t
        for t in s.execute(sa.select(ConversationText).where(ConversationText.conversation_id.in_(ids))).scalars()
    }
    for cid, acc in accs.items():
        row = summaries.get(cid)
        if row is None:
            if acc.first is None and acc.rank < 0:
                continue  # nothing to show (e.g. only an action_listen so far)
            row = ConversationSummary(conversation_id=cid, ref=secrets.token_hex(10))
            s.add(row)
        row.first_at, row.last_at = _ts(acc.first), _ts(acc.last)
        row.channel = acc.channel[:64] if acc.channel else None
        row.level_rank = acc.rank
        row.triage_level = LEVELS[acc.rank] if acc.rank >= 0 else None
        row.rule_ids = "," + ",".join(acc.rules) + "," if acc.rules else ""
        row.message_count = acc.messages
        text = "\n".join(acc.text)[:SEARCH_TEXT_LIMIT]
        t = texts.get(cid)
        if t is None:
            s.add(ConversationText(conversation_id=cid, text=text, level_rank=acc.rank))
        else:
            if t.text != text:
                t.text = text
            if t.level_rank != acc.rank:
                t.level_rank = acc.rank  # the search by level (list_conversations) reads it
    return decisions


def _project(s: Session, records: dict[str, list[Told]]) -> int:
    """Write the `clonus_triage_assessment` row of each stored decision record that has none: the
    action server writes its own records' rows while the turn runs (that write may have failed); the
    Rasa server's fail-safe records have only this one. Keyed by the record's id (idempotent)."""
    ids = [t.record.id for ts in records.values() for t in ts if t.record is not None]
    if not ids:
        return 0
    have = {
        did
        for i in range(0, len(ids), 500)
        for (did,) in s.execute(sa.select(TriageAssessment.decision_id).where(TriageAssessment.decision_id.in_(ids[i : i + 500])))
    }
    added = 0
    for cid, ts in records.items():
        for t in ts:
            r = t.record
            if r is None or r.id in have:
                continue
            have.add(r.id)
            s.add(
                TriageAssessment(
                    conversation_id=cid,
                    level=r.level,
                    rule_ids=list(r.rule_ids),
                    reasons=list(r.reasons),
                    medications=list(r.medications),
                    turn_timestamp=t.turn_at,
                    decision_id=r.id,
                    source=r.source,
                    created_at=_ts(t.ts),
                )
            )
            added += 1
    return added


def _record_alerts(s: Session, decisions: dict[str, list[Decision]], now: datetime | None = None) -> int:
    """One alert per new emergency or urgent decision (idempotent: a decision already recorded, by
    its key or as the same level within ALERT_SAME_DECISION, adds nothing). Returns how many."""
    now = now or datetime.now(UTC)
    since = now - alert_max_age()
    fresh = {cid: [d for d in ds if d.at >= since] for cid, ds in decisions.items()}
    fresh = {cid: ds for cid, ds in fresh.items() if ds}
    if not fresh:
        return 0
    existing: dict[str, list[Alert]] = {}
    for a in s.execute(
        sa.select(Alert).where(Alert.conversation_id.in_(list(fresh)), Alert.at >= since - ALERT_SAME_DECISION)
    ).scalars():
        existing.setdefault(a.conversation_id, []).append(a)
    added = 0
    for cid, ds in fresh.items():
        have = existing.setdefault(cid, [])
        for d in sorted(ds, key=lambda d: d.at):
            if any(
                a.source_key == d.key or (a.level == d.level and abs(a.at - d.at) <= ALERT_SAME_DECISION) for a in have
            ):
                continue
            a = Alert(
                conversation_id=cid,
                level=d.level,
                rule_ids="," + ",".join(d.rule_ids) + "," if d.rule_ids else "",
                source_key=d.key,
                at=d.at,
            )
            s.add(a)
            have.append(a)
            added += 1
    if added:
        log.info("alerts: %d new", added)
    return added


# Re-read this many ids below the high-water mark on each sync: on PostgreSQL an event can become
# visible after one with a higher id (ids are taken at insert, rows appear at commit), and a
# rebuild is idempotent, so reading a few again costs little and loses nothing.
RESCAN_IDS = 300
SYNC_LOCK_KEY = 0x636C6F6E7573 + 1


def sync_summaries(url: str | None = None) -> int:
    """Bring the summary table up to date with new events and assessments; returns how many
    conversations were rebuilt.

    Cheap when nothing is new (two indexed max() queries). Otherwise one writer at a time
    (SQLite write lock; PostgreSQL advisory lock), and every conversation touched since the last
    run (or shortly before it) is recomputed from its own events.
    """
    with session_scope(url, write=False) as s:
        has_events = _events_table_exists(s)
        ev_max = s.execute(sa.select(sa.func.max(events.c.id))).scalar() if has_events else None
        as_max = s.execute(sa.select(sa.func.max(TriageAssessment.id))).scalar()
        marks = _marks(s)
    if (ev_max or 0) <= marks.get("events", 0) and (as_max or 0) <= marks.get("assessments", 0):
        return 0
    rebuilt = 0
    with session_scope(url) as s:
        _writer_lock(s)
        marks = _marks(s, lock=True)
        ev_mark, as_mark = marks.get("events", 0), marks.get("assessments", 0)
        touched: set[str] = set()
        if has_events:
            lo = max(0, ev_mark - RESCAN_IDS) if ev_mark else 0
            for eid, sender in s.execute(sa.select(events.c.id, events.c.sender_id).where(events.c.id > lo)):
                touched.add(sender)
                ev_mark = max(ev_mark, eid)
        lo = max(0, as_mark - RESCAN_IDS) if as_mark else 0
        for aid, cid in s.execute(
            sa.select(TriageAssessment.id, TriageAssessment.conversation_id).where(TriageAssessment.id > lo)
        ):
            touched.add(cid)
            as_mark = max(as_mark, aid)
        ids = sorted(touched)
        for i in range(0, len(ids), 500):
            _record_alerts(s, _rebuild(s, ids[i : i + 500], has_events))
            s.flush()
            rebuilt += len(ids[i : i + 500])
        _set_mark(s, "events", ev_mark)
        _set_mark(s, "assessments", as_mark)
    log.info("conversation summaries: %d rebuilt", rebuilt)
    return rebuilt


def _writer_lock(s: Session) -> None:
    """One summary writer at a time (SQLite: the write transaction itself; PostgreSQL: an advisory lock)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": SYNC_LOCK_KEY})


@dataclass
class Applied:
    rebuilt: int  # conversations recomputed
    not_stored: int  # broker events not in this deployment's tracker store: not applied


def _stored_keys(s: Session, extra: Extra) -> set[tuple]:
    """(sender, *event_key) of the events of `extra` that this deployment's tracker store holds."""
    pairs = sorted({(sender, ts) for sender, evs in extra.items() for _, ts, _ in evs if ts is not None})
    found: set[tuple] = set()
    for i in range(0, len(pairs), 500):
        chunk = pairs[i : i + 500]
        for sender, type_name, ts, data in s.execute(
            sa.select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data).where(
                events.c.sender_id.in_(sorted({p[0] for p in chunk})),
                events.c.timestamp.in_(sorted({p[1] for p in chunk})),
            )
        ):
            found.add((sender, *event_key(type_name, ts, data)))
    return found


def apply_events(url: str | None, extra: Extra) -> Applied:
    """Bring the summaries, search text and alerts of the conversations in `extra` (events from
    the broker) up to date, from this deployment's own tracker store.

    Defence in depth against another deployment's events on the same exchange (a misconfigured or
    shared exchange, a forged message): an event is published only after this deployment's
    tracker store committed it, so a broker event the store does not hold (same conversation,
    type, timestamp and content: console.conversations.event_key) is another deployment's or
    forged. It is not applied, only counted (`Applied.not_stored`); a conversation is recomputed
    only when the store holds at least one of its broker events, and then from the stored events
    alone, never from the message's content. Idempotent: an event delivered twice, or delivered
    and caught up, changes nothing."""
    if not extra:
        return Applied(0, 0)
    with session_scope(url) as s:
        _writer_lock(s)
        has_events = _events_table_exists(s)
        stored = _stored_keys(s, extra) if has_events else set()
        ids: list[str] = []
        not_stored = 0
        for sender in sorted(extra):
            known = [e for e in extra[sender] if (sender, *event_key(*e)) in stored]
            not_stored += len(extra[sender]) - len(known)
            if known:
                ids.append(sender)
        for i in range(0, len(ids), 500):
            _record_alerts(s, _rebuild(s, ids[i : i + 500], has_events))
            s.flush()
    return Applied(len(ids), not_stored)


# --- list ---------------------------------------------------------------------------------------


@dataclass
class Filters:
    date_from: date | None = None
    date_to: date | None = None
    channel: str | None = None
    level: str | None = None
    rule_id: str | None = None
    reviewed: bool | None = None
    q: str | None = None

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        """From request arguments; anything malformed raises console.params.ParamError (a 400)."""
        date_from, date_to = params.day(args, "from"), params.day(args, "to")
        if date_from and date_to and date_from > date_to:
            raise params.ParamError("from: must not be after to")
        reviewed = params.choice(args, "reviewed", ("yes", "no"))
        return cls(
            date_from=date_from,
            date_to=date_to,
            channel=params.text(args, "channel", 64),
            level=params.choice(args, "level", LEVELS),
            rule_id=(params.text(args, "rule", 64) or "").upper() or None,
            reviewed={"yes": True, "no": False}.get(reviewed or ""),
            q=params.text(args, "q", 200),
        )

    def as_args(self) -> dict[str, str]:
        out = {
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "channel": self.channel or "",
            "level": self.level or "",
            "rule": self.rule_id or "",
            "reviewed": {True: "yes", False: "no", None: ""}[self.reviewed],
            "q": self.q or "",
        }
        return {k: v for k, v in out.items() if v}

    def for_audit(self, key: str | None) -> dict[str, Any]:
        """The filters as the audit log keeps them. The search text is left out: what staff search
        for is often health information (a symptom, a medicine) or a phone number. The audit keeps
        its length and a keyed hash (HMAC-SHA256 with the console's secret key, cut to 64 bits),
        so that an investigator who has the key can check whether someone searched for a given
        text, while the log itself does not reveal it (a plain hash of a short text is guessed
        from a word list in seconds). Without a key (the CLI without CONSOLE_SECRET_KEY) only the
        length is kept."""
        out: dict[str, Any] = self.as_args()
        q = out.pop("q", None)
        if q:
            out["q_length"] = len(q)
            if key:
                out["q_hmac"] = search_hmac(key, q)
        return out


def search_hmac(key: str, q: str) -> str:
    return hmac.new(key.encode(), b"audit-search:" + q.lower().encode(), hashlib.sha256).hexdigest()[:16]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _day_start(d: date, tz: tzinfo) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(UTC)


LIST_COLUMNS = (
    ConversationSummary.ref,
    ConversationSummary.conversation_id,
    ConversationSummary.first_at,
    ConversationSummary.last_at,
    ConversationSummary.channel,
    ConversationSummary.triage_level,
    ConversationSummary.rule_ids,
    ConversationSummary.message_count,
)


def _text_matches(q: str, text: Any = None) -> Any:
    """SQL condition on ConversationText.text (or `text`, an expression of it): holds `q` (any
    case) as a substring."""
    column = ConversationText.text if text is None else text
    return column.like(f"%{_like_escape(q.lower())}%", escape="\\")


def _filtered(f: Filters, tz: tzinfo, text: Any = None, columns: tuple | None = None) -> sa.sql.Select:
    """The list's query with the filters of `f`. `text`: the SQL condition that stands for the text
    search (default: the conversation is among those whose text holds f.q); `columns`: what to
    select (default: the list's columns and the review's)."""
    cs, rv = ConversationSummary, ConversationReview
    reviewed = sa.func.coalesce(rv.reviewed, sa.false())
    cols = columns if columns is not None else (*LIST_COLUMNS, rv.reviewed, rv.reviewed_by, rv.reviewed_at)
    q = sa.select(*cols).outerjoin(rv, rv.conversation_id == cs.conversation_id)
    if f.date_from:
        q = q.where(cs.last_at >= _day_start(f.date_from, tz))
    if f.date_to:
        q = q.where(cs.last_at < _day_start(f.date_to + timedelta(days=1), tz))
    if f.channel:
        q = q.where(cs.channel == f.channel)
    if f.level:
        q = q.where(cs.level_rank == LEVEL_RANK[f.level])
    if f.rule_id:
        q = q.where(cs.rule_ids.like(f"%,{_like_escape(f.rule_id)},%", escape="\\"))
    if f.reviewed is True:
        q = q.where(reviewed == sa.true())
    elif f.reviewed is False:
        q = q.where(reviewed == sa.false())
    if f.q:
        q = q.where(text if text is not None else _holds(f.q))
    return q


def _priority(cs: Any, rv: Any) -> Any:
    """Unreviewed emergencies first, then unreviewed urgent cases, then everything by recency."""
    unreviewed = sa.func.coalesce(rv.reviewed, sa.false()) == sa.false()
    return sa.case((sa.and_(unreviewed, cs.level_rank >= LEVEL_RANK["urgent"]), cs.level_rank), else_=-1)


@dataclass
class ConversationRow:
    ref: str
    conversation_id: str
    first_at: datetime | None
    last_at: datetime | None
    channel: str | None
    triage_level: str | None
    rule_ids: list[str]
    message_count: int
    reviewed: bool
    reviewed_by: str | None
    reviewed_at: datetime | None

    @property
    def needs_attention(self) -> bool:
        return not self.reviewed and self.triage_level in ("emergency", "urgent")

    @property
    def crisis(self) -> bool:
        """Crisis mode (issue 10): RF-SELF-HARM fired in this conversation; the assistant keeps the
        988 and 911 guidance for the rest of it, and staff should look at it."""
        return is_crisis(self.rule_ids)


#: The rule whose firing puts a conversation in crisis mode (rasa_ext.turn.CRISIS_RULE).
CRISIS_RULE = "RF-SELF-HARM"


def is_crisis(rule_ids: Any) -> bool:
    """From the summary's rule ids (a list, or the stored ",A,B," string)."""
    ids = rule_ids.strip(",").split(",") if isinstance(rule_ids, str) else list(rule_ids or [])
    return CRISIS_RULE in ids


def _row(r: Any) -> ConversationRow:
    return ConversationRow(
        ref=r.ref,
        conversation_id=r.conversation_id,
        first_at=r.first_at,
        last_at=r.last_at,
        channel=r.channel,
        triage_level=r.triage_level,
        rule_ids=[x for x in (r.rule_ids or "").split(",") if x],
        message_count=r.message_count or 0,
        reviewed=bool(r.reviewed),
        reviewed_by=r.reviewed_by,
        reviewed_at=r.reviewed_at,
    )


def _needs_attention(cs: Any, rv: Any) -> Any:
    return sa.and_(sa.func.coalesce(rv.reviewed, sa.false()) == sa.false(), cs.level_rank >= LEVEL_RANK["urgent"])


#: The list counts matching conversations up to this many and says "more than" past it: an exact
#: count reads every match (all 100,000 conversations for the plain list, every conversation whose
#: text holds a common word), a capped one stops here. The dashboard keeps the exact total.
COUNT_CAP = 1000


@dataclass
class ListPage:
    rows: list[ConversationRow]
    total: int  # matching conversations, counted up to COUNT_CAP
    more: bool  # more than `total` match


def _capped_count(s: Session, q: sa.sql.Select, cap: int) -> int:
    """How many rows `q` gives, counting no further than cap + 1."""
    return int(s.execute(sa.select(sa.func.count()).select_from(q.limit(cap + 1).subquery())).scalar_one())


#: The list's first parts, in order: the unreviewed conversations of these levels (emergency, urgent).
ATTENTION_RANKS = (LEVEL_RANK["emergency"], LEVEL_RANK["urgent"])
#: PostgreSQL's trigram index of each attention level's text (migration 0015_console_search_levels).
LEVEL_TEXT_INDEXES = {
    "ix_clonus_conversation_text_emergency_trgm": LEVEL_RANK["emergency"],
    "ix_clonus_conversation_text_urgent_trgm": LEVEL_RANK["urgent"],
}


def _level_text(rank: int) -> Any:
    """The text of the conversations of one level, NULL for the others: the expression migration
    0015 indexes (the rank a literal, so that PostgreSQL matches the index's expression)."""
    ct = ConversationText
    return sa.case((ct.level_rank == sa.literal_column(str(int(rank))), ct.text))


def _holds(q: str, rank: int | None = None) -> Any:
    """_filtered's `text`: the conversation is among those whose text holds `q`; with `rank` (an
    attention level), among those of that level, by that level's own text expression.

    An uncorrelated IN, which PostgreSQL plans either way round, from its estimate of how many
    conversations match: few, their ids from the trigram index and the rows of those alone; many,
    the list's index walked in order and each row's id checked, stopping after a page. For a
    level's text the estimate comes from the statistics of that level's index expression (a word
    that tens of thousands of conversations hold but no emergency is estimated as rare among the
    emergencies; with the whole text's statistics it was not, and the list read every emergency's
    text before giving up)."""
    ct = ConversationText
    column = _level_text(rank) if rank is not None else None
    return ConversationSummary.conversation_id.in_(sa.select(ct.conversation_id).where(_text_matches(q, column)))


def list_conversations(s: Session, f: Filters, tz: tzinfo, page: int = 1, page_size: int = PAGE_SIZE) -> ListPage:
    """One page of the filtered list: unreviewed emergencies, then unreviewed urgent cases, then
    everything else newest first.

    Parts instead of one ORDER BY CASE, each a query walking an index in its order and stopping
    after one page: the unreviewed emergencies and urgent cases on (level_rank, last_at,
    conversation_id), the rest on last_at. A page takes rows from the first part that has them and
    goes on to the next when that one ends; a page that starts past a part counts that part, and
    only up to the page's start. Counts stop at COUNT_CAP (ListPage.more says there are more).

    Text search (the same matches as ever: the lowercased text holds the lowercased search text,
    LIKE): the first parts are one per level, emergency then urgent, each searching its level's text
    alone (_holds); the rest searches all the text (or the level filter's).
    """
    cs, rv = ConversationSummary, ConversationReview
    unreviewed = sa.func.coalesce(rv.reviewed, sa.false()) == sa.false()
    attention = _needs_attention(cs, rv)
    by_level = (cs.level_rank.desc(), cs.last_at.desc(), cs.conversation_id)
    level = LEVEL_RANK[f.level] if f.level else None
    text = _holds(f.q, level if level in ATTENTION_RANKS else None) if f.q else None
    parts: list[tuple[Any, tuple, Any]] = []  # (text, conditions, order) of each part, in the list's order
    if f.q:
        for rank in ATTENTION_RANKS:
            if f.reviewed is not True and level in (None, rank):
                parts.append((_holds(f.q, rank), (unreviewed, cs.level_rank == rank), by_level))
    else:
        parts.append((None, (attention,), by_level))
    parts.append((text, (sa.not_(attention),), (cs.last_at.desc(),)))
    rows: list[Any] = []
    skip = (max(1, page) - 1) * page_size
    for part_text, conditions, order in parts:
        got = s.execute(
            _filtered(f, tz, part_text).where(*conditions).order_by(*order).limit(page_size - len(rows)).offset(skip)
        ).all()
        rows += got
        if len(rows) == page_size:
            break
        if got or not skip:
            skip = 0  # this part ended on this page (or is empty): the next one starts at its beginning
        else:  # the page starts past this part: how many it has (fewer than skip + 1)
            skip -= _capped_count(s, _filtered(f, tz, part_text, (cs.conversation_id,)).where(*conditions), skip)
    if f.q and not replace(f, q=None).as_args():  # the text alone: its matches, from the trigram index
        ct = ConversationText
        total = _capped_count(s, sa.select(ct.conversation_id).where(_text_matches(f.q)), COUNT_CAP)
    else:
        total = _capped_count(s, _filtered(f, tz, text, (cs.conversation_id,)), COUNT_CAP)
    return ListPage([_row(r) for r in rows], min(total, COUNT_CAP), total > COUNT_CAP)


def iter_filtered(s: Session, f: Filters, tz: tzinfo, limit: int = 100_000) -> list[ConversationRow]:
    cs, rv = ConversationSummary, ConversationReview
    q = _filtered(f, tz).order_by(_priority(cs, rv).desc(), cs.last_at.desc()).limit(limit)
    return [_row(r) for r in s.execute(q)]


def channels(s: Session) -> list[str]:
    """The distinct channels, in order: one step of the channel index per channel (a recursive
    query), instead of reading every conversation's row to group them."""
    cs = ConversationSummary
    first = sa.select(sa.func.min(cs.channel).label("channel")).cte("channels", recursive=True)
    step = sa.select(sa.func.min(cs.channel)).where(cs.channel > first.c.channel).scalar_subquery()
    walk = first.union_all(sa.select(step).where(first.c.channel.isnot(None)))
    q = sa.select(walk.c.channel).where(walk.c.channel.isnot(None)).order_by(walk.c.channel)
    return [c for (c,) in s.execute(q)]


# --- transcript ---------------------------------------------------------------------------------


@dataclass
class Item:
    """One line of a transcript: a message, a triage decision, or a session boundary."""

    kind: str  # user | bot | decision (a record) | triage (older slot event) | assessment (older row) | session
    at: datetime | None
    text: str = ""
    channel: str | None = None
    intent: str | None = None
    confidence: float | None = None
    entities: list[dict] = field(default_factory=list)
    level: str | None = None
    rule_ids: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    medications: list[Any] = field(default_factory=list)
    source: str | None = None  # a record's: action | failsafe
    unsaved: bool = False  # told in a turn the database refused; stored with the next stored turn


@dataclass
class Transcript:
    summary: ConversationSummary
    items: list[Item]
    review: ConversationReview | None
    notes: list[ReviewNote]
    appointments: list[AppointmentRequest]


TRANSCRIPT_EVENT_LIMIT = 5_000


def summary_by_ref(s: Session, ref: str) -> ConversationSummary | None:
    return s.execute(sa.select(ConversationSummary).where(ConversationSummary.ref == ref)).scalar_one_or_none()


def transcript(s: Session, ref: str) -> Transcript | None:
    summary = summary_by_ref(s, ref)
    if summary is None:
        return None
    cid = summary.conversation_id
    items: list[Item] = []
    recorded: set[str] = set()
    has_events = _events_table_exists(s)
    if has_events:
        rows = s.execute(
            sa.select(events.c.type_name, events.c.timestamp, events.c.data)
            .where(events.c.sender_id == cid)
            .order_by(events.c.id)
            .limit(TRANSCRIPT_EVENT_LIMIT)
        ).all()
        found = told([(type_name, ts, data) for type_name, ts, data in rows])
        recorded = {t.record.id for t in found if t.record is not None}
        decided = {t.index: t for t in found}
        for index, (type_name, ts, data) in enumerate(rows):
            at = _ts(ts)
            if type_name == "user":
                d = _loads(data)
                intent = (d.get("parse_data") or {}).get("intent") or {}
                ents = (d.get("parse_data") or {}).get("entities") or []
                items.append(
                    Item(
                        kind="user",
                        at=at,
                        text=str(d.get("text") or ""),
                        channel=d.get("input_channel"),
                        intent=intent.get("name"),
                        confidence=intent.get("confidence"),
                        entities=[
                            {"entity": e.get("entity"), "value": e.get("value")} for e in ents if isinstance(e, dict)
                        ],
                    )
                )
            elif type_name == "bot":
                items.append(Item(kind="bot", at=at, text=str(_loads(data).get("text") or "")))
            elif index in decided:  # a decision, in place: once
                t = decided[index]
                r = t.record
                items.append(
                    Item(
                        kind=t.kind,
                        at=_ts(t.ts),  # when it was told (a record told in a refused turn: then)
                        level=t.level,
                        rule_ids=list(t.rule_ids),
                        reasons=list(r.reasons) if r else [],
                        medications=list(r.medications) if r else [],
                        source=r.source if r else None,
                        unsaved=bool(r and r.told_at is not None),
                    )
                )
            elif type_name == "session_started":
                items.append(Item(kind="session", at=at, text="new session"))
    # Rows of the triage table whose record is not among the events (rows written before records
    # existed, or a record its stored turn lost); a row of a record shown above is that record.
    for a in s.execute(
        sa.select(TriageAssessment)
        .where(TriageAssessment.conversation_id == cid, in_transcript(TriageAssessment, has_events))
        .order_by(TriageAssessment.created_at, TriageAssessment.id)
    ).scalars():
        if a.decision_id is not None and a.decision_id in recorded:
            continue
        items.append(
            Item(
                kind="assessment",
                at=a.created_at,
                level=a.level,
                rule_ids=list(a.rule_ids or []),
                reasons=[str(r) for r in (a.reasons or [])],
                medications=list(a.medications or []),
            )
        )
    epoch = datetime.min.replace(tzinfo=UTC)
    items.sort(key=lambda i: i.at or epoch)  # stable: events keep their order
    review = s.get(ConversationReview, cid)
    notes = list(
        s.execute(
            sa.select(ReviewNote)
            .where(ReviewNote.conversation_id == cid)
            .order_by(ReviewNote.created_at, ReviewNote.id)
        ).scalars()
    )
    appts = list(
        s.execute(
            sa.select(AppointmentRequest)
            .where(AppointmentRequest.conversation_id == cid, in_transcript(AppointmentRequest, has_events))
            .order_by(AppointmentRequest.created_at)
        ).scalars()
    )
    return Transcript(summary=summary, items=items, review=review, notes=notes, appointments=appts)


# --- dashboard ----------------------------------------------------------------------------------


@dataclass
class Dashboard:
    total: int
    last_7_days: int
    unreviewed_emergency: int
    unreviewed_urgent: int
    new_appointments: int
    days: list[date]
    per_day: dict[date, dict[str, int]]
    top_flags: list[tuple[str, int]]


def dashboard(s: Session, tz: tzinfo, days: int = 14, now: datetime | None = None) -> Dashboard:
    cs, rv = ConversationSummary, ConversationReview
    now = now or datetime.now(UTC)
    today = now.astimezone(tz).date()
    start_day = today - timedelta(days=days - 1)
    start = _day_start(start_day, tz)
    total = s.execute(sa.select(sa.func.count()).select_from(cs)).scalar_one()
    recent = s.execute(
        sa.select(sa.func.count()).select_from(cs).where(cs.last_at >= now - timedelta(days=7))
    ).scalar_one()
    # level_rank (the index's first column; triage_level is LEVELS[level_rank]) without a
    # reviewed mark: an index-only walk of the urgent and emergency entries, no summary rows read
    reviewed = sa.select(rv.conversation_id).where(rv.conversation_id == cs.conversation_id, rv.reviewed == sa.true())
    by_level = {
        LEVELS[rank]: n
        for rank, n in s.execute(
            sa.select(cs.level_rank, sa.func.count())
            .where(cs.level_rank >= LEVEL_RANK["urgent"], ~reviewed.exists())
            .group_by(cs.level_rank)
        ).all()
        if 0 <= rank < len(LEVELS)
    }
    new_appts = s.execute(
        sa.select(sa.func.count())
        .select_from(AppointmentRequest)
        .where(AppointmentRequest.status == "new", in_transcript(AppointmentRequest, _events_table_exists(s)))
    ).scalar_one()
    day_list = [start_day + timedelta(days=i) for i in range(days)]
    per_day: dict[date, dict[str, int]] = {d: dict.fromkeys(LEVELS, 0) for d in day_list}
    # Counted in the database (the first_at index, not one row per conversation to Python): each
    # conversation falls in the clinic day whose [start, next start) holds its first message,
    # bounds computed here in the clinic's time zone (DST included).
    bounds = [_day_start(d + timedelta(days=1), tz) for d in day_list]
    day_of = sa.case(*((cs.first_at < b, i) for i, b in enumerate(bounds)), else_=None)
    sub = (
        sa.select(day_of.label("day"), cs.triage_level.label("level"))
        .where(cs.first_at >= start, cs.first_at < bounds[-1], cs.triage_level.isnot(None))
        .subquery()
    )
    for i, level, n in s.execute(sa.select(sub.c.day, sub.c.level, sa.func.count()).group_by(sub.c.day, sub.c.level)):
        if i is not None and level in per_day[day_list[i]]:
            per_day[day_list[i]][level] += int(n)
    flags: Counter[str] = Counter()
    for rule_ids, n in s.execute(
        sa.select(cs.rule_ids, sa.func.count())
        .where(cs.first_at >= start, cs.rule_ids != "")
        .group_by(cs.rule_ids)
        .order_by(cs.rule_ids)
    ):
        for x in (rule_ids or "").split(","):
            if x:
                flags[x] += int(n)
    return Dashboard(
        total=int(total),
        last_7_days=int(recent),
        unreviewed_emergency=int(by_level.get("emergency", 0)),
        unreviewed_urgent=int(by_level.get("urgent", 0)),
        new_appointments=int(new_appts),
        days=day_list,
        per_day=per_day,
        top_flags=flags.most_common(10),
    )


# --- retention ----------------------------------------------------------------------------------


def purge_older_than(url: str | None, days: int, now: datetime | None = None) -> int:
    """Delete conversations whose last activity is older than `days` days: their events, summary,
    assessments, review, notes, appointment requests and SMS pages waiting for MORE. The audit log
    is kept (it holds no message text). Returns how many conversations were purged."""
    if days < 1:
        raise ValueError("retention must be at least one day")
    sync_summaries(url)
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    purged = 0
    with session_scope(url) as s:
        has_events = _events_table_exists(s)
        ids = [
            cid
            for (cid,) in s.execute(
                sa.select(ConversationSummary.conversation_id).where(ConversationSummary.last_at < cutoff)
            )
        ]
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            if has_events:
                s.execute(sa.delete(events).where(events.c.sender_id.in_(chunk)))
            for model in (TriageAssessment, ReviewNote, AppointmentRequest, ConversationText, SmsMorePage):
                s.execute(sa.delete(model).where(model.conversation_id.in_(chunk)))
            s.execute(sa.delete(ConversationReview).where(ConversationReview.conversation_id.in_(chunk)))
            s.execute(sa.delete(ConversationSummary).where(ConversationSummary.conversation_id.in_(chunk)))
            purged += len(chunk)
    log.info("retention: purged %d conversations older than %d days", purged, days)
    return purged
