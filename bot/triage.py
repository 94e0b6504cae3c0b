"""The triage engine: `assess(messages)` reads every message of one conversation and returns one
Assessment (level, red flags with rule ids and reasons, medicines, unrecognised names, symptoms).

Assessments accumulate: what one message says stays true for the rest of the conversation, so a
later message can raise the level but never lower it, unless the person explicitly corrects what
they said ("sorry, I meant I do NOT have a fever", "actually I'm not on tramadol").
"""

from __future__ import annotations

import copy
import logging
import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

from bot.context import SELF, Patient, context, patient_of, says_it_is_about_self, speaks_for_self
from bot.medications import Mention, analyse, knowledge
from bot.rules import LEVELS, RANK, RULE_IDS, ConversationState, Med, RedFlag, evaluate, level_of
from bot.symptoms import Finding, SymptomReport, extract, lexicon

__all__ = [
    "LEVELS", "Assessment", "Assessor", "MedicationMention", "MessageReading", "RedFlag", "assess", "assess_incremental",
    "read_message", "states_emergency",
]

log = logging.getLogger(__name__)

#: A conversation longer than this is assessed on its last messages only (the level of the earlier
#: ones is still kept by the Rasa slots). Keeps one request bounded whatever a client sends.
MAX_MESSAGES = 200
# Context features that are bookkeeping, not something to report as a symptom.
_NOT_REPORTED = frozenset({"correction", "chronic", "pump_mentioned", "taper", "device_alarm", "episode_now"})
#: Features that say an intrathecal (baclofen) pump is in place.
_PUMP = frozenset({"pump_context", "pump_mentioned"})

# ------------------------------------------------------------------------------ the recall layer seam
#: A feature the recall layer (bot.recall.propose: paraphrase -> {feature: probability}) proposes joins
#: the rule inputs when its probability reaches this threshold (per feature, else the default). The
#: layer reads only the ASSERTED words of a message (bot.context.Context.asserted_text: what is not
#: negated, hypothetical, historical or someone else's), and a feature the extractor found denied in
#: the same message is never taken from it. The rules stay the arbiter: they decide what the features
#: mean, and every decision still carries its policy id.
RECALL_THRESHOLD = 0.8
RECALL_THRESHOLDS: Dict[str, float] = {}
#: The embedding reader's threshold (bot.recall.embed: all-MiniLM-L6-v2 sentence embeddings), chosen on
#: the blind dev halves only (docs/ARCHITECTURE.md, the recall layer).
EMBED_THRESHOLD = 0.9
#: ... and per feature, where it differs. self_harm: short everyday requests ("schedule me for botox
#: injections pls", "im done for today, bye") scored 0.90-0.98, and on every dev half and the outside set
#: 0.95 loses no emergency that 0.9 caught (2026-12-04).
EMBED_THRESHOLDS: Dict[str, float] = {"self_harm": 0.95}

Reader = Tuple[str, Callable[[str], Dict[str, float]], float]


def _readers(mode: str) -> List[Reader]:
    """The recall layer's readers for CLONUS_RECALL=mode: "0" none, "ngram" the hashed n-gram reader,
    "embed" the sentence-embedding reader, anything else (the default) both."""
    if mode == "0":
        return []
    out: List[Reader] = []
    if mode != "embed":
        from bot.recall import propose as ngram

        out.append(("ngram", ngram, RECALL_THRESHOLD))
    if mode != "ngram":
        from bot.recall import embed

        out.append(("embed", embed.propose, EMBED_THRESHOLD))
    return out


_PROPOSE: List[List[Reader]] = []


def readers() -> List[Reader]:
    """The recall layer's readers (name, propose, threshold), chosen once by CLONUS_RECALL."""
    if not _PROPOSE:
        _PROPOSE.append(_readers(os.environ.get("CLONUS_RECALL", "1")))
    return _PROPOSE[0]


def warm_up() -> float:
    """Load what the first message would otherwise wait for (the recogniser's tables, the lexicon, both recall
    readers: the embedding reader's 90 MB of weights take about a second) and return the seconds it took.
    Called by the servers before they take requests."""
    import time

    t0 = time.perf_counter()
    assess(["warm up: my legs keep jerking and i take baclofen"])
    for _, propose, _ in readers():
        propose("warm up")
    return time.perf_counter() - t0


#: A request to see or talk to someone about a part of the body, a medicine or a symptom ("i want to see
#: someone about my legs", "id like to talk to a nurse about my meds"): the request says nothing about
#: self-harm, but the recall layer, trained on lay phrasings of "I want to ..." wishes, read it as self-harm.
#: Such a request is not given to the recall layer (the rest of the message still is). A request about
#: anything else ("... about my dark thoughts", "... about how i keep wanting to disappear") is scored
#: whole, and the lexicon always reads the whole message: the more cautious reading.
_CARE_REQUEST = re.compile(
    r"\b(?:i |we |he |she )?(?:really |just )?(?:want|wanna|wants|need|needs|would like|d like|id like|like|wish|hope|"
    r"am hoping|im hoping|was hoping|have|has|got) (?:to )?(?:go )?(?:see|talk to|talk with|speak to|speak with|chat with|"
    r"be seen by|get seen by|get checked by|get checked out by|meet with|visit|book (?:in )?with|get an appointment with|"
    r"make an appointment with) (?:someone|somebody|anyone|anybody|a (?:real )?(?:doctor|nurse|specialist|neurologist|"
    r"person|human|professional|physio|therapist|physical therapist|pharmacist|provider)|the (?:doctor|nurse|"
    r"specialist|neurologist|clinic|team|physio|pharmacist)|my (?:doctor|neurologist|nurse|gp|specialist|physio))"
    r" (?:about|for|regarding|re|over|concerning|because of|with) (?:(?:my|his|her|their|our|the|these|this|that|some|a|an|"
    r"both|left|right|lower|upper|bad|sore|stiff|weak|new|old|current) )*(?:\w+ )?"
    r"(?:legs?|arms?|back|neck|feet|foot|ankles?|knees?|hands?|hips?|calf|calves|muscles?|spine|shoulders?|toes?|"
    r"fingers?|wrists?|thighs?|jaw|body|side|meds|medicines?|medications?|pills|tablets|prescriptions?|doses?|refills?|"
    r"spasms?|spasticity|clonus|jerks?|jerking|twitch\w*|stiffness|tone|tremors?|pain|symptoms?|botox|pump|"
    r"results|tests?|condition|ms|stroke|injury|walking|balance|appointment)\b(?=\s*(?:$|[.!?;,]|\b(?:and|but|please|pls|asap|soon|today|tomorrow|this week|next week)\b))"
)


def proposed_features(text: str, report: SymptomReport, patient: Optional[str]) -> List[str]:
    """Features the recall layer adds to what the extractor found in this message: those any reader
    gives, reading only the asserted words, at or above its threshold, unless the lexicon found the feature in this message in any context
    (denied, hypothetical, someone else's: then the lexicon's reading decides)."""
    active = readers()
    if not active:
        return []
    asserted = _CARE_REQUEST.sub(" ", context(text, patient).asserted_text())  # see _CARE_REQUEST
    if not asserted.strip():
        return []
    lex = lexicon()
    said = {f.feature for f in report.findings}  # found by the lexicon, in any context: it decides
    out = set()
    for name, propose, threshold in active:
        for feature, p in propose(asserted).items():
            limit = (RECALL_THRESHOLDS if name == "ngram" else EMBED_THRESHOLDS).get(feature, threshold)
            if feature in lex and feature not in said and p >= limit:
                out.add(feature)
    return sorted(out)


#: Longest piece of a message read as one (Assessor.add): a long message is read as several pieces.
PIECE_CHARS = 2000
_PIECE_END = re.compile(r"[.!?\n]\s|\s")


def pieces(text: str, size: int = PIECE_CHARS) -> List[str]:
    """`text` cut into pieces of at most `size` characters, each ending at the last sentence end (else
    the last space) before the limit; nothing is dropped."""
    out = []
    while len(text) > size:
        window = text[:size]
        cut = max((m.end() for m in _PIECE_END.finditer(window) if m.group(0)[0] in ".!?\n"), default=0)
        if cut < size // 2:
            cut = window.rfind(" ") + 1
        if cut <= 0:
            cut = size
        out.append(text[:cut])
        text = text[cut:]
    out.append(text)
    return out


@dataclass(frozen=True)
class MedicationMention:
    name: str
    classes: List[str]
    status: str  # "current" | "past" | "hypothetical"
    mentioned_as: str


@dataclass(frozen=True)
class Assessment:
    triage_level: str
    red_flags: List[RedFlag] = field(default_factory=list)
    medications: List[MedicationMention] = field(default_factory=list)
    unrecognised: List[str] = field(default_factory=list)
    symptoms: List[str] = field(default_factory=list)
    #: What a combination the person only asks about could do ("Taking tramadol with venlafaxine could
    #: cause serotonin syndrome ..."): told to the person (bot.triage_text), not part of the level
    #: or of the JSON contract.
    asked: List[RedFlag] = field(default_factory=list)

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

    def to_turn_dict(self) -> Dict[str, Any]:
        """to_dict() plus `asked` (what describe() tells about combinations only asked about): the
        shape the Rasa server keeps in the `assessment` slot, read back by from_dict()."""
        out = self.to_dict()
        out["asked"] = [{"id": f.id, "level": f.level, "reason": f.reason} for f in self.asked]
        return out

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Assessment":
        """The Assessment of a to_dict() / to_turn_dict() object (the `assessment` slot)."""

        def flags(items: Any) -> List[RedFlag]:
            return [RedFlag(str(f["id"]), str(f["level"]), str(f.get("reason") or "")) for f in items or []]

        level = data.get("triage_level")
        return cls(
            triage_level=level if level in LEVELS else "self_care",
            red_flags=flags(data.get("red_flags")),
            medications=[
                MedicationMention(str(m["name"]), list(m.get("classes") or []), str(m.get("status") or "current"),
                                  str(m.get("mentioned_as") or m["name"]))
                for m in data.get("medications") or []
            ],
            unrecognised=[str(w) for w in data.get("unrecognised") or []],
            symptoms=[str(x) for x in data.get("symptoms") or []],
            asked=flags(data.get("asked")),
        )


@dataclass
class _Message:
    text: str
    mentions: List[Mention]
    unrecognised: List[str]
    report: SymptomReport
    correction: bool
    #: the message says, without naming it, that the medicine asked about is taken after all
    #: ("ok so i took it 3 hrs ago anyway", "the doc already prescribed it and i took one")
    takes_it: bool = False
    #: the message says, without naming it, that the medicine named before is stopped ("well actually
    #: i stopped it on sunday", "ran out of them"): (True, days since the stop or None)
    stops_it: Tuple[bool, Optional[float]] = (False, None)


#: "took it", "started them", "already prescribed it", "im on it": a medicine named before, taken.
_TAKES_IT = re.compile(
    r"\b(?:took|take|taking|taken|started|start|starting|am on|im on|been on|been taking|used|using|had|swallowed|"
    r"popped|tried|prescribed|gave (?:me|him|her|them)|put (?:me|him|her|them) on|went ahead and (?:took|take|did))\s+"
    r"(?:it|them|one|both|some|a dose|a pill|the first (?:dose|one|pill)|those|that|that one|one of them|two|a couple)\b"
    r"(?!\s+(?:easy|slow|off|back|apart|out|over))"
)


#: "stopped it", "quit them", "came off it", "ran out of them": a medicine named before, stopped.
_STOPS_IT = re.compile(
    r"\b(?:stopped|quit|stopped taking|quit taking|came off|went off|got off|ran out of|run out of|gave up|dropped|"
    r"ditched|dumped|finished)\s+(?:it|them|those|that|that one|the pills|the tablets|the meds|taking it|taking them)\b"
    r"(?!\s+(?:from|happening|hurting))"
)


def _stops_it(text: str, patient: Optional[str]) -> Tuple[bool, Optional[float]]:
    from bot.text_utils import days_ago

    ctx = context(text, patient)
    for m in _STOPS_IT.finditer(ctx.norm):
        if ctx.at(m.start(), m.end()).asserted:
            found = days_ago(ctx.norm[m.start():], allow_duration=True)
            return True, (found[0] if found else None)
    return False, None


def _takes_it(text: str, patient: Optional[str]) -> bool:
    ctx = context(text, patient)
    for m in _TAKES_IT.finditer(ctx.norm):
        mods = ctx.at(m.start(), m.end())
        if mods.asserted:
            return True
    return False


def _as_text(text: object) -> str:
    return "" if text is None else text if isinstance(text, str) else str(text)


#: Words that are Spanish and (nearly) never English: two of them make a message Spanish enough to read
#: with bot.lang_es as well ("empece a tomar lexapro hace 3 dias y ahora tengo el corazon acelerado").
_SPANISH_CUES = re.compile(
    r"\b(?:tengo|tiene|tienen|estoy|esta|está|estan|están|muy|pero|hace|ahora|porque|desde|empece|empecé|"
    r"tomo|tomar|tomando|dias|días|mucho|mucha|muchisimo|muchísimo|tuvo|tuve|para|cuando|despues|después|siento|"
    r"siente|puede|pueden|mi|mis|su|sus|el|la|los|las|del|con|que|de|se|le|me|ni|sin|y|hijo|hija|mamá|mama|esposo|esposa)\b",
    re.IGNORECASE,
)


def _spanish(text: str) -> Optional[Tuple[FrozenSet[str], FrozenSet[str]]]:
    """(present, denied) features of a message in Spanish (or Spanglish), else None.

    Spanish enough: three cue words, or bot.language names it Spanish (a short message: "mi esposa
    no responde", "necesito una ambulancia", "quiero morirme"). A request for an ambulance or 911
    in Spanish is the feature `emergency_request` (RF-STATED-EMERGENCY)."""
    from bot.lang_es import spanish_emergency_request, spanish_findings

    cues = {m.group(0).lower() for m in _SPANISH_CUES.finditer(text)}
    if len(cues) < 3:
        from bot.language import detect

        if detect(text) != "es":
            # Too short to call Spanish ("no respira", "no despierta"): only the stated emergencies
            # whose Spanish words are never English are taken.
            # (A lone "socorro" is read like a lone "HELP": not by itself an emergency.)
            present = spanish_findings(text)[0] & _SPANISH_ONLY_EMERGENCY
            return (present, frozenset()) if present else None
    present, denied = spanish_findings(text)
    if spanish_emergency_request(text):
        present = present | {"emergency_request"}
    return (present, denied) if present or denied else None


#: Stated-emergency features whose Spanish phrases (bot.lang_es) have no English look-alike ("no
#: respira", "no responde", "se está ahogando", "labios morados"); not seizure ("convulsions") nor
#: self-harm ("suicidal"), which English shares and reads with its own context.
_SPANISH_ONLY_EMERGENCY = frozenset({"breathing_trouble", "slow_breathing", "unresponsive", "blue_lips"})


def _read(text: str, patient: Optional[str]) -> _Message:
    rec = analyse(text, patient)
    report = extract(text, patient)
    lex = lexicon()
    es = _spanish(text)
    if es is not None:
        # Spanish words for the same features (bot.lang_es); a Spanish denial ("no tengo fiebre ni
        # sudor") is a denial like the English one, said last in the message.
        said = {f.feature for f in report.findings}
        end = len(text)
        present, denied = es
        found = tuple(Finding(f, end, end) for f in sorted(present - said) if f in lex)
        found += tuple(Finding(f, end + 1, end + 1, negated=True) for f in sorted(denied - present) if f in lex)
        report = replace(report, findings=report.findings + found)
    if len({m.group(0).lower() for m in _SPANISH_CUES.finditer(text)}) >= 2:
        # a message that mixes the languages ("cuando subo las escaleras my foot shakes, no para"): its
        # Spanish phrases in English, read by the English lexicon with its context (bot.lang_es.mixed_gloss)
        from bot.lang_es import mixed_gloss

        gloss = mixed_gloss(text)
        if gloss != text:
            said = {f.feature for f in report.findings}
            end = len(text) + 2
            more = extract(gloss, patient)
            report = replace(report, findings=report.findings + tuple(
                replace(f, start=end, end=end) for f in more.findings if f.feature not in said))
    extra = proposed_features(text, report, patient)
    if extra:
        end = len(text)
        report = replace(report, findings=report.findings + tuple(Finding(f, end, end) for f in extra))
    correction = "correction" in report.present
    takes_it = not any(m.status == "current" for m in rec.mentions) and _takes_it(text, patient)
    stops_it = _stops_it(text, patient) if not rec.mentions else (False, None)
    return _Message(text, rec.mentions, rec.unrecognised, report, correction, takes_it, stops_it)


def _apply(state: ConversationState, msg: _Message) -> None:
    kb = knowledge()
    for m in msg.mentions:
        if m.status in ("negated", "other"):
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
        elif m.status == "hypothetical":
            med.hypothetical = True
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
    if msg.takes_it:
        # "is it ok to take imitrex with celexa?" ... "ok so i took it anyway": what was only asked
        # about is taken now (the more cautious reading: every medicine of that question).
        for med in state.meds.values():
            if med.hypothetical and not med.current and not med.stopped:
                med.current = True
                med.started_recently = True
    if msg.stops_it[0]:
        # "i take diazepam for spasms" ... "well actually i stopped it on sunday": the medicine named
        # last that is still taken is stopped now (RX-BENZO-STOP, RX-BACLOFEN-STOP read the stop).
        taken = [med for med in state.meds.values() if med.current]
        if taken:
            med = taken[-1]
            med.current, med.past, med.stopped, med.started_recently = False, True, True, False
            if msg.stops_it[1] is not None:
                med.days_since_stop = msg.stops_it[1]
    if _PUMP & msg.report.present and "baclofen" not in state.meds and "baclofen" in kb.medicines:
        # An intrathecal pump in place delivers baclofen: the person takes it now, even unnamed.
        state.meds["baclofen"] = Med(name="baclofen", classes=frozenset(kb.medicines["baclofen"].classes),
                                     mentioned_as="pump", current=True)
    state.features |= set(msg.report.present)
    state.chronic |= set(msg.report.chronic)
    if msg.report.temperature_c is not None:
        state.temperature_c = max(state.temperature_c or msg.report.temperature_c, msg.report.temperature_c)


#: Features an explicit correction never withdraws (see _correct).
NEVER_WITHDRAWN = frozenset({"self_harm"})


def _correct(messages: List[_Message], upto: int) -> bool:
    """An explicit correction in messages[upto] withdraws, from every earlier message, the medicines
    and features it now denies. True when it withdrew something."""
    msg = messages[upto]
    denied_meds = {m.name for m in msg.mentions if m.status in ("negated", "other")}
    # Thoughts of self-harm, once disclosed, are never withdrawn by a later denial ("jk i dont", "sorry i meant i
    # do not"): people often take them back, and the crisis line stays in every reply (outside tester, 2026-12-04).
    denied_features = set(msg.report.negated) - NEVER_WITHDRAWN
    if not denied_meds and not denied_features:
        return False
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
    return True


@lru_cache(maxsize=1)
def _symptom_kind_features() -> FrozenSet[str]:
    return frozenset(name for name, f in lexicon().items() if f.kind == "symptom")


#: What read_message() read, handed to the next Assessor that reads the same text for the same patient
#: (taken once, then gone): the NLU component rasa_ext.emergency_intent reads a message on its own, and the
#: turn's conversation Assessor (rasa_ext.turn) reads the same message right after; so the engine reads it
#: once a turn. A read depends only on the text and the patient. Bounded: the oldest is dropped first (a
#: parse without a turn, e.g. the HTTP /model/parse, leaves its read here until then).
HANDOFF_SIZE = 256
_HANDOFF: "OrderedDict[Tuple[str, Optional[str]], _Message]" = OrderedDict()


def _hand_off(text: str, patient: Optional[str], msg: _Message) -> None:
    # _correct() edits an earlier message's mentions and report: the next reader gets its own lists.
    _HANDOFF[(text, patient)] = replace(msg, mentions=list(msg.mentions), unrecognised=list(msg.unrecognised))
    _HANDOFF.move_to_end((text, patient))
    while len(_HANDOFF) > HANDOFF_SIZE:
        _HANDOFF.popitem(last=False)


class Assessor:
    """The assessment of one conversation, message by message: `add(message)` reads only the new
    message (its cost does not grow with the conversation) and returns the Assessment of the whole
    conversation so far, the same as `assess(all messages)`.

    Assessments accumulate: what one message says stays true for the rest of the conversation, so a
    later message can raise the level but never lower it, unless the person explicitly corrects what
    they said ("sorry, I meant I do NOT have a fever"). A correction, or learning only later whom the
    conversation is about (a caregiver's "it's for my mom"), re-reads the earlier messages once.

    This is the conversation boundary: an error inside the engine while reading one message is
    logged at ERROR (its type only, never the text) and that message counts as unread, unless
    strict=True (then it raises; the tests use that)."""

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.messages: List[_Message] = []
        self.patient: Patient = SELF
        self._patient_known = False
        self.state = ConversationState(symptom_features=_symptom_kind_features())
        self._kept: Dict[str, RedFlag] = {}
        self._unrecognised: List[str] = []
        self._seen_unrecognised: Set[str] = set()
        self.assessment = Assessment("self_care")

    def add(self, text: object) -> Assessment:
        text = _as_text(text)
        if len(text) > PIECE_CHARS:
            # A message longer than a person types in one go is read as the pieces it is made of, so that every
            # word of it is read (an emergency at the end of a pasted page included) at a cost that grows with
            # its length, not faster (outside tester, 2026-12-04: 16k characters took 24 s and an emergency
            # after 20k characters was never read).
            for piece in pieces(text):
                self.add(piece)
            return self.assessment
        found = None
        if not self._patient_known:
            found = patient_of([text]) if text.strip() else None
        elif self.patient != SELF and says_it_is_about_self(text) and self.assessment.triage_level != "emergency":
            # "my daughter gets seizures ..." then "im asking for me tho": the writer says so (an explicit
            # correction of whom it is about); an emergency already told is never taken back this way
            found = SELF
        if found is not None and (found != SELF or speaks_for_self(text)):
            self._patient_known = True
            if found != self.patient:
                self.patient = found
                for i, earlier in enumerate(self.messages):  # re-read with the patient now known
                    self.messages[i] = self._safe_read(earlier.text)
                self._kept = {}
                self._unrecognised, self._seen_unrecognised = [], set()
                for earlier in self.messages:
                    for word in earlier.unrecognised:
                        if word.lower() not in self._seen_unrecognised:
                            self._seen_unrecognised.add(word.lower())
                            self._unrecognised.append(word)
                self._rebuild()
        msg = self._safe_read(text)
        self.messages.append(msg)
        if msg.correction and _correct(self.messages, len(self.messages) - 1):
            self._kept = {}  # a correction may lower the level: forget what earlier messages raised it to
            flags = self._rebuild()
        else:
            _apply(self.state, msg)
            flags = evaluate(self.state)
            self._keep(flags)
        for word in msg.unrecognised:
            if word.lower() not in self._seen_unrecognised:
                self._seen_unrecognised.add(word.lower())
                self._unrecognised.append(word)
        self.assessment = self._result(flags)
        return self.assessment

    @property
    def latest_states_emergency(self) -> bool:
        """The latest message itself says there is an emergency now (someone unresponsive or not
        breathing, a seizure, self-harm, a request for an ambulance or 911) and the conversation is
        at the emergency level: the emergency message is given again, even when it was given before."""
        if not self.messages or self.assessment.triage_level != "emergency":
            return False
        return bool(set(self.messages[-1].report.present) & STATED_EMERGENCY_FEATURES)

    def _safe_read(self, text: str) -> _Message:
        handed = _HANDOFF.pop((text, self.patient.key), None)
        if handed is not None:
            return handed
        try:
            return _read(text, self.patient.key)
        except Exception as exc:
            if self.strict:
                raise
            log.error("triage engine failed on a message (%s); the message counts as unread", type(exc).__name__)
            return _Message(text, [], [], SymptomReport(), False)

    def _rebuild(self) -> List[RedFlag]:
        self.state = ConversationState(patient=self.patient, symptom_features=_symptom_kind_features())
        for m in self.messages:
            _apply(self.state, m)
        flags = evaluate(self.state)
        self._keep(flags)
        return flags

    def _keep(self, flags: Iterable[RedFlag]) -> None:
        self.state.patient = self.patient
        for flag in flags:
            old = self._kept.get(flag.id)
            if old is None or RANK[flag.level] >= RANK[old.level]:
                self._kept[flag.id] = flag

    def _result(self, final: List[RedFlag]) -> Assessment:
        state = self.state
        final_ids = {f.id for f in final}
        final_level = level_of(final)
        # A flag that fired earlier and outranks the final state keeps the level from going down.
        earlier = [f for f in self._kept.values() if f.id not in final_ids and RANK[f.level] > RANK[final_level]]
        flags = _in_policy_order(final + earlier)
        meds = list(state.meds.values())
        medications = (
            [MedicationMention(m.name, sorted(m.classes), "current", m.mentioned_as) for m in meds if m.current]
            + [MedicationMention(m.name, sorted(m.classes), "past", m.mentioned_as) for m in meds
               if not m.current and m.past]
            + [MedicationMention(m.name, sorted(m.classes), "hypothetical", m.mentioned_as) for m in meds
               if not m.current and not m.past and m.hypothetical]
        )
        unrecognised = list(self._unrecognised)
        asked: List[RedFlag] = []
        if any(m.hypothetical and not m.current for m in meds):
            what_if = copy.copy(state)
            what_if.include_asked = True
            fired = {f.id for f in flags}
            asked = [f for f in evaluate(what_if) if f.id not in fired and f.id.startswith(("COMBO-", "RX-"))]
        return Assessment(
            triage_level=level_of(flags),
            red_flags=flags,
            medications=medications,
            unrecognised=unrecognised,
            symptoms=sorted(state.features - _NOT_REPORTED),
            asked=asked,
        )


def assess_incremental(previous: Optional[Assessor], message: object) -> Assessor:
    """`state = assess_incremental(state, new_message)`; `state.assessment` is the result so far."""
    state = previous if previous is not None else Assessor()
    state.add(message)
    return state


def assess(messages: Sequence[object] | str, strict: bool = False) -> Assessment:
    """Assess the messages of one conversation, oldest first. Never raises on odd text (see
    Assessor; strict=True raises instead)."""
    if isinstance(messages, str):
        messages = [messages]
    try:
        items = list(messages or [])[-MAX_MESSAGES:]
    except TypeError:
        items = [messages]
    assessor = Assessor(strict=strict)
    for text in items:
        assessor.add(text)
    return assessor.assessment


def _in_policy_order(flags: Iterable[RedFlag]) -> List[RedFlag]:
    order = {rule_id: i for i, rule_id in enumerate(RULE_IDS)}
    return sorted(flags, key=lambda f: order.get(f.id, len(order)))


def highest(levels: Iterable[str]) -> Optional[str]:
    """The most severe of some levels (None for none)."""
    best: Optional[str] = None
    for level in levels:
        if level in RANK and (best is None or RANK[level] > RANK[best]):
            best = level
    return best


#: Features that, said in a message, state an emergency by themselves (the rules that read them are
#: emergency-level: RF-STATED-EMERGENCY, RF-OVERDOSE, RF-UNRESPONSIVE, RF-BREATHING, RF-SEIZURE, RF-SELF-HARM).
STATED_EMERGENCY_FEATURES = frozenset(
    {"emergency_request", "danger_now", "overdose_taken", "unresponsive", "breathing_trouble", "slow_breathing", "blue_lips",
     "seizure", "self_harm"}
)


def states_emergency(text: object) -> bool:
    """Whether this one message says there is an emergency now, as the triage rules read it.

    The NLU's `emergency` intent is not an input: times, dates, counts, phone numbers, gibberish and a
    bare "help" never raise the emergency reply, and an ambulance, 911, someone unresponsive or not
    breathing always do, whatever the classifier said (issue 10)."""
    state = Assessor()
    state.add(text)
    return state.latest_states_emergency


#: Features that emergency-level rules read (section 5, RX-RESP-DEPRESSION, RF-STATED-EMERGENCY,
#: RF-UNRESPONSIVE): said now, they are a sign of an emergency even when no rule fired on them alone
#: ("she fainted"). rasa_ext.emergency_intent keeps the classifier's `emergency` intent for a message that
#: says one (the more cautious reading); without one, the intent never stands alone.
EMERGENCY_SIGN_FEATURES = STATED_EMERGENCY_FEATURES | frozenset(
    {"loss_of_consciousness", "extreme_sleepiness", "face_droop", "one_sided_weakness", "speech_problem", "vision_loss",
     "balance_loss", "bladder_bowel_loss", "saddle_numbness", "both_legs_weak", "stiff_neck", "severe_headache",
     "confusion", "recent_injury", "low_blood_pressure"}
)


@dataclass(frozen=True)
class MessageReading:
    """What the engine reads in one message on its own (no conversation before it)."""

    #: this message alone is at the emergency level (any emergency-level rule fired)
    emergency: bool
    #: it states an emergency now (Assessor.latest_states_emergency)
    stated: bool
    #: the emergency-level rule ids that fired
    rule_ids: Tuple[str, ...]
    #: EMERGENCY_SIGN_FEATURES said now
    signs: FrozenSet[str]
    #: self-harm is said in any way but a denial (also someone else's, past or asked about): a
    #: self-harm disclosure is never read down
    self_harm: bool


def read_message(text: object) -> MessageReading:
    """The engine's reading of one message alone (the NLU's check of its `emergency` intent, issue 10).
    Never raises (an engine error reads as nothing found, logged without the text)."""
    state = Assessor()
    assessment = state.add(text)
    msg = state.messages[-1]
    _hand_off(msg.text, state.patient.key, msg)
    rules = tuple(f.id for f in assessment.red_flags if f.level == "emergency")
    self_harm = any(f.feature == "self_harm" and not f.negated for f in msg.report.findings)
    return MessageReading(
        emergency=assessment.triage_level == "emergency",
        stated=state.latest_states_emergency,
        rule_ids=rules,
        signs=frozenset(msg.report.present) & EMERGENCY_SIGN_FEATURES,
        self_harm=self_harm or "RF-SELF-HARM" in rules,
    )
