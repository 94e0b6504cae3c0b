"""Fictional conversations written as Rasa 3.6 tracker events, for tests, the benchmark and demos.

Every person, phone number (555-01xx, reserved for fiction) and message here is invented.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from bot.db.tracker import events
from bot.decision import SLOT as DECISION_SLOT
from bot.decision import Decision

UTC = timezone.utc  # noqa: UP017  (Python 3.10)
CHANNELS = ("rest", "socketio", "twilio")
NAMES = ("Alex Example", "Sam Sample", "Jordan Placeholder", "Riley Testcase", "Casey Fiction", "Morgan Demo")


@dataclass(frozen=True)
class Scenario:
    name: str
    turns: tuple[tuple[str, str, list[dict], str], ...]  # (user text, intent, entities, bot text)
    level: str | None
    rule_ids: tuple[str, ...]
    reasons: tuple[str, ...] = ()


def _med(value: str, text: str) -> dict:
    return {"entity": "medication", "value": value, "extractor": "MedicationEntityExtractor", "text": text}


SCENARIOS = (
    Scenario(
        "serotonin emergency",
        (
            ("hi", "greet", [], "Hello! I'm an automated assistant, not a doctor. How can I help?"),
            (
                "I take zoloft and started tramadol yesterday, now my legs keep jerking on their own and I'm sweating buckets",
                "report_symptom",
                [_med("sertraline", "zoloft"), _med("tramadol", "tramadol")],
                "This could be serotonin toxicity. Call 911 now or go to the nearest emergency department. Do not wait for an appointment.",
            ),
        ),
        "emergency",
        ("SS-HUNTER", "COMBO-HIGH-OPIOID"),
        ("Spontaneous clonus while taking serotonergic medicines (sertraline, tramadol).",),
    ),
    Scenario(
        "MAOI combination",
        (
            ("hello", "greet", [], "Hello! I'm an automated assistant, not a doctor."),
            (
                "my doctor gave me phenelzine and I still take sertraline, is that ok?",
                "report_medication",
                [_med("phenelzine", "phenelzine"), _med("sertraline", "sertraline")],
                "You take phenelzine and sertraline together; this combination can cause serotonin syndrome. Contact your prescriber or a pharmacist today.",
            ),
        ),
        "urgent",
        ("COMBO-MAOI",),
        ("You take phenelzine and sertraline together; this combination can cause serotonin syndrome.",),
    ),
    Scenario(
        "sustained clonus, booking",
        (
            (
                "my ankle keeps bouncing for like 20 seconds when I stand on my toes",
                "report_symptom",
                [{"entity": "body_part", "value": "ankle", "extractor": "DIETClassifier"}],
                "Clonus that lasts many seconds should be checked by a neurologist. Would you like to book an appointment?",
            ),
            ("yes please", "affirm", [], "What is your name?"),
            ("Jordan Placeholder", "inform", [], "What phone number can the clinic call you on?"),
            ("555-555-0142", "inform", [], "When would suit you?"),
            ("tuesday morning", "inform", [], "Thank you. The clinic will call you to confirm."),
        ),
        "routine",
        ("CL-SUSTAINED",),
        ("Clonus sustained for many seconds.",),
    ),
    Scenario(
        "brief clonus",
        (
            (
                "sometimes my foot twitches 3 or 4 times then stops",
                "report_symptom",
                [{"entity": "body_part", "value": "foot", "extractor": "DIETClassifier"}],
                "A few beats that stop on their own are common even in healthy people.",
            ),
            ("thanks", "thankyou", [], "You're welcome. Take care."),
        ),
        "self_care",
        ("CL-BRIEF",),
        ("A few beats of clonus that stop on their own.",),
    ),
    Scenario(
        "education only",
        (
            (
                "what is clonus?",
                "education/what_is_clonus",
                [],
                "Clonus is a series of involuntary, rhythmic muscle contractions.",
            ),
            ("how is it diagnosed", "education/diagnosis", [], "A clinician checks your reflexes, often at the ankle."),
            ("bye", "goodbye", [], "Goodbye!"),
        ),
        None,
        (),
    ),
)

FILLER = (
    ("what causes it?", "education/causes", [], "It usually comes from a problem in the brain or spinal cord."),
    (
        "is it treatable",
        "education/treatment",
        [],
        "Yes: physiotherapy, medicines such as baclofen, and sometimes injections.",
    ),
    (
        "when should I worry",
        "education/when_to_worry",
        [],
        "Seek care at once if you have a fever, confusion or sudden weakness.",
    ),
)


def _event(kind: str, ts: float, **fields: Any) -> dict:
    return {"event": kind, "timestamp": ts, **fields}


def conversation_events(
    sender_id: str,
    start: datetime,
    scenario: Scenario,
    channel: str,
    extra_turns: int = 0,
    rng: random.Random | None = None,
) -> list[dict]:
    """Rows for Rasa's `events` table (sender_id, type_name, timestamp, intent_name, action_name, data)."""
    rng = rng or random.Random(0)
    t = start.timestamp()
    out: list[dict] = []

    def add(data: dict, intent: str | None = None, action: str | None = None) -> None:
        out.append(
            {
                "sender_id": sender_id,
                "type_name": data["event"],
                "timestamp": data["timestamp"],
                "intent_name": intent,
                "action_name": action,
                "data": json.dumps(data),
            }
        )

    add(_event("action", t, name="action_session_start", policy=None, confidence=1.0), action="action_session_start")
    add(_event("session_started", t))
    add(_event("action", t, name="action_listen", policy=None, confidence=None), action="action_listen")
    triage_turn = scenario.turns[_triage_turn(scenario)] if scenario.level else None
    # longer conversations: the person goes on asking questions after the scenario's turns
    turns = list(scenario.turns) + [rng.choice(FILLER) for _ in range(extra_turns)]
    for turn in turns:
        text, intent, entities, bot_text = turn
        t += rng.uniform(5, 90)
        user_message_id = uuid.UUID(int=rng.getrandbits(128)).hex
        add(
            _event(
                "user",
                t,
                text=text,
                parse_data={
                    "intent": {"name": intent, "confidence": round(rng.uniform(0.7, 0.99), 3)},
                    "entities": entities,
                    "text": text,
                    "message_id": uuid.UUID(int=rng.getrandbits(128)).hex,
                    "metadata": {},
                },
                input_channel=channel,
                message_id=user_message_id,
                metadata={},
            ),
            intent=intent,
        )
        t += 0.4
        if turn is triage_turn:
            add(
                _event("action", t, name="action_triage", policy="EmergencyPolicy", confidence=1.0),
                action="action_triage",
            )
            add(_event("slot", t, name="triage_level", value=scenario.level))
            add(_event("slot", t, name="red_flags", value=list(scenario.rule_ids)))
            # the decision's record (bot.decision), as action_triage stores it with the turn
            record = Decision(
                level=scenario.level,
                rule_ids=list(scenario.rule_ids),
                reasons=list(scenario.reasons),
                action="action_triage",
                turn=user_message_id,
                id=uuid.uuid5(uuid.NAMESPACE_URL, f"clonus-demo:{sender_id}:{t!r}").hex,  # one per decision
            )
            add(_event("slot", t, name=DECISION_SLOT, value=record.to_dict()))
        add(_event("bot", t + 0.1, text=bot_text, data={}, metadata={}))
        add(_event("action", t + 0.2, name="action_listen", policy=None, confidence=None), action="action_listen")
    return out


def _triage_turn(scenario: Scenario) -> int:
    for i, turn in enumerate(scenario.turns):
        if turn[1] in ("report_symptom", "report_medication"):
            return i
    return 0


def insert_events(conn: sa.engine.Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(events.insert(), rows)


def seed(
    conn: sa.engine.Connection,
    n_conversations: int,
    target_events: int | None = None,
    now: datetime | None = None,
    days: int = 30,
    seed_value: int = 7,
    batch: int = 20_000,
) -> dict[str, Any]:
    """Insert `n_conversations` fictional conversations spread over the last `days` days.

    Returns the (sender_id, scenario) list so that callers can add assessments or appointments.
    """
    rng = random.Random(seed_value)
    now = now or datetime.now(UTC)
    per_conv = (target_events or n_conversations * 20) / n_conversations
    buf: list[dict] = []
    made: list[tuple[str, Scenario, str]] = []
    total = 0
    weights = (0.08, 0.12, 0.3, 0.25, 0.25)
    for i in range(n_conversations):
        scenario = rng.choices(SCENARIOS, weights=weights)[0]
        channel = rng.choice(CHANNELS)
        sender = f"+1555{rng.randrange(10**7):07d}" if channel == "twilio" else uuid.UUID(int=rng.getrandbits(128)).hex
        sender = sender if sender not in {m[0] for m in made[-5:]} else sender + f"-{i}"
        # 3 rows per turn (user, bot, action_listen), 3 to start a session, 4 for a triage decision
        base = 3 * len(scenario.turns) + 3 + (4 if scenario.level else 0)
        extra = max(0, round((per_conv - base) / 3 + rng.uniform(-1, 1)))
        start = now - timedelta(seconds=rng.uniform(0, days * 86400))
        rows = conversation_events(sender, start, scenario, channel, extra, rng)
        buf.extend(rows)
        total += len(rows)
        made.append((sender, scenario, channel))
        if len(buf) >= batch:
            insert_events(conn, buf)
            buf = []
    insert_events(conn, buf)
    return {"conversations": made, "events": total}
