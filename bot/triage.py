"""The triage engine: `assess(messages)` reads every message of one conversation and returns one
Assessment (level, red flags with rule ids and reasons, medicines, unrecognised names, symptoms).

Assessments accumulate: what one message says stays true for the rest of the conversation, so a
later message can raise the level but never lower it, unless the person explicitly corrects what
they said ("sorry, I meant I do NOT have a fever", "actually I'm not on tramadol").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Sequence

from bot.medications import Knowledge, Mention, analyse, knowledge
from bot.rules import LEVELS, RANK, ConversationState, Med, RedFlag, evaluate, level_of
from bot.symptoms import SymptomReport, extract, lexicon

__all__ = ["LEVELS", "Assessment", "MedicationMention", "RedFlag", "assess"]

log = logging.getLogger(__name__)

#: A conversation longer than this is assessed on its last messages only (the level of the earlier
#: ones is still kept by the Rasa slots). Keeps one request bounded whatever a client sends.
MAX_MESSAGES = 200
# Context features that are bookkeeping, not something to report as a symptom.
_NOT_REPORTED = frozenset({"correction", "chronic"})


@dataclass(frozen=True)
class MedicationMention:
    name: str
    classes: List[str]
    status: str  # "current" | "past"
    mentioned_as: str


@dataclass(frozen=True)
class Assessment:
    triage_level: str
    red_flags: List[RedFlag] = field(default_factory=list)
    medications: List[MedicationMention] = field(default_factory=list)
    unrecognised: List[str] = field(default_factory=list)
    symptoms: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        """Exactly the JSON object of `python -m bot assess --json`."""
        return {
            "triage_level": self.triage_level,
            "red_flags": [{"id": f.id, "level": f.level, "reason": f.reason} for f in self.red_flags],
            "medications": [
                {"name": m.name, "classes": list(m.classes), "status": m.status, "mentioned_as": m.mentioned_as}
                for m in self.medications
            ],
            "unrecognised": list(self.unrecognised),
            "symptoms": list(self.symptoms),
        }

    @property
    def rule_ids(self) -> List[str]:
        return [f.id for f in self.red_flags]


@dataclass
class _Message:
    mentions: List[Mention]
    unrecognised: List[str]
    report: SymptomReport
    correction: bool


def _read(text: object) -> _Message:
    text = "" if text is None else text if isinstance(text, str) else str(text)
    rec = analyse(text)
    report = extract(text)
    correction = "correction" in report.present
    return _Message(rec.mentions, rec.unrecognised, report, correction)


def _apply(state: ConversationState, msg: _Message, kb: Knowledge) -> None:
    for m in msg.mentions:
        if m.status == "negated":
            continue
        med = state.meds.get(m.name)
        if med is None:
            med = Med(name=m.name, classes=frozenset(kb.medicines[m.name].classes), mentioned_as=m.text)
            state.meds[m.name] = med
        if m.status == "current":
            med.current = True
            med.started_recently = med.started_recently or m.started_recently
            if m.days_since_start is not None:
                med.days_since_start = min(m.days_since_start, med.days_since_start or m.days_since_start)
        else:
            med.past = True
            if m.stopped:
                med.stopped = True
                if m.days_since_stop is not None:
                    med.days_since_stop = (
                        m.days_since_stop if med.days_since_stop is None else min(med.days_since_stop, m.days_since_stop)
                    )
            elif m.days_since_stop is not None and med.days_since_stop is None:
                med.days_since_stop = m.days_since_stop
    state.features |= set(msg.report.present)
    state.chronic |= set(msg.report.chronic)
    if msg.report.temperature_c is not None:
        state.temperature_c = max(state.temperature_c or msg.report.temperature_c, msg.report.temperature_c)


def _correct(messages: List[_Message], upto: int) -> None:
    """An explicit correction in messages[upto] withdraws, from every earlier message, the medicines
    and features it now denies."""
    msg = messages[upto]
    denied_meds = {m.name for m in msg.mentions if m.status == "negated"}
    denied_features = set(msg.report.negated)
    if not denied_meds and not denied_features:
        return
    for earlier in messages[:upto]:
        earlier.mentions = [m for m in earlier.mentions if m.name not in denied_meds]
        if denied_features:
            kept = tuple(f for f in earlier.report.findings if f.feature not in denied_features)
            earlier.report = SymptomReport(
                findings=kept,
                temperature_c=None if "fever" in denied_features else earlier.report.temperature_c,
                beats=earlier.report.beats,
                systolic=earlier.report.systolic,
                pulse=earlier.report.pulse,
                chronic=earlier.report.chronic - denied_features,
            )


def _symptom_kind_features() -> FrozenSet[str]:
    return frozenset(name for name, f in lexicon().items() if f.kind == "symptom")


def assess(messages: Sequence[object] | str) -> Assessment:
    """Assess the messages of one conversation, oldest first. Never raises on odd text."""
    if isinstance(messages, str):
        messages = [messages]
    try:
        items = list(messages or [])[-MAX_MESSAGES:]
    except TypeError:
        items = [messages]
    kb = knowledge()
    read = [_read(text) for text in items]
    for i, msg in enumerate(read):
        if msg.correction:
            _correct(read, i)
    symptom_features = _symptom_kind_features()

    state = ConversationState()
    kept: Dict[str, RedFlag] = {}  # flags of earlier messages, since the last correction
    for i, msg in enumerate(read):
        if msg.correction:
            kept = {}  # a correction may lower the level: forget what earlier messages raised it to
            state = ConversationState()
            for earlier in read[:i]:
                _apply(state, earlier, kb)
        _apply(state, msg, kb)
        for flag in evaluate(state, symptom_features):
            old = kept.get(flag.id)
            if old is None or RANK[flag.level] >= RANK[old.level]:
                kept[flag.id] = flag
    final = evaluate(state, symptom_features)
    final_ids = {f.id for f in final}
    final_level = level_of(final)
    # A flag that fired earlier and outranks the final state keeps the level from going down.
    earlier = [f for f in kept.values() if f.id not in final_ids and RANK[f.level] > RANK[final_level]]
    flags = _in_policy_order(final + earlier)

    medications = [
        MedicationMention(m.name, sorted(m.classes), "current", m.mentioned_as) for m in state.meds.values() if m.current
    ] + [
        MedicationMention(m.name, sorted(m.classes), "past", m.mentioned_as) for m in state.meds.values() if not m.current
    ]
    unrecognised: List[str] = []
    for msg in read:
        for word in msg.unrecognised:
            if word.lower() not in {u.lower() for u in unrecognised}:
                unrecognised.append(word)
    symptoms = sorted(state.features - _NOT_REPORTED)
    return Assessment(
        triage_level=level_of(flags),
        red_flags=flags,
        medications=medications,
        unrecognised=unrecognised,
        symptoms=symptoms,
    )


def _in_policy_order(flags: Iterable[RedFlag]) -> List[RedFlag]:
    from bot.rules import RULE_IDS

    order = {rule_id: i for i, rule_id in enumerate(RULE_IDS)}
    return sorted(flags, key=lambda f: order.get(f.id, len(order)))


def highest(levels: Iterable[str]) -> Optional[str]:
    """The most severe of some levels (None for none)."""
    best: Optional[str] = None
    for level in levels:
        if level in RANK and (best is None or RANK[level] > RANK[best]):
            best = level
    return best


def is_stated_emergency(text: str, intent: Optional[str], confidence: Optional[float], emergency_number: str = "911") -> bool:
    """Whether the person says it is an emergency, as the NLU classified it.

    The classifier's `emergency` intent is trusted when the message has words in it; a message of
    digits only (a half-typed phone number, "12") cannot state an emergency, unless it is the
    emergency number itself.
    """
    if intent != "emergency":
        return False
    stripped = (text or "").strip()
    if stripped.replace(" ", "") == emergency_number:
        return True
    if not any(ch.isalpha() for ch in stripped):
        return False
    return confidence is None or confidence >= 0.5
