"""Symptom features in a person's own words (bot/knowledge/symptoms.yml), with negation and time.

`extract(text)` returns a SymptomReport: which features the message reports now ("sweating buckets"
-> diaphoresis), which it denies ("no fever"), which are in the past ("I had a fever last month"),
plus numbers read from the text (temperature, clonus beats, blood pressure, pulse).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Pattern, Set, Tuple

import yaml

from bot.context import CURRENT, FORWARD, HABITUAL, NEGATED, TRIGGERS, Context, context, patient_of
from bot.text_utils import KNOWLEDGE_DIR, clean
from bot.vocab import NUMBER_WORDS

log = logging.getLogger(__name__)

DEFAULT_PATH = KNOWLEDGE_DIR / "symptoms.yml"
KINDS = ("symptom", "condition", "context")
_FEATURE_FIELDS = {"kind", "description", "patterns", "unless", "requires", "context", "plain", "habitual", "witnessed"}
#: Which context modifiers (bot.context) make a finding not count, by kind; a feature may list its own.
MODIFIERS = ("negated", "hypothetical", "historical", "other_person")
DEFAULT_MODIFIERS = {
    "symptom": frozenset(MODIFIERS),
    "condition": frozenset({"negated", "hypothetical", "other_person"}),  # "stroke last year" counts
    "context": frozenset({"hypothetical", "other_person"}),
}

#: Fever threshold. The policy says "> 38 °C (100.4 °F)"; 100.4 °F is itself 38.0 °C and is the
#: usual fever cut-off, so a reading of exactly 38.0 °C / 100.4 °F counts (the more cautious choice).
FEVER_C = 38.0
#: Heart rate above which a reported pulse counts as "rapid heart rate" (FDA sign).
TACHYCARDIA_BPM = 100
#: Systolic pressure below which a reported blood pressure counts as "very low" (RX-TIZANIDINE-CYP1A2).
LOW_SYSTOLIC = 90
#: Beats of clonus: more than this is sustained, this many or fewer is brief (seed 000: "sustained
#: for over five contractions").
BRIEF_BEATS = 5


class LexiconError(ValueError):
    """The symptom lexicon is invalid; the message names the file and the feature."""


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str
    description: str
    pattern: Pattern[str]
    unless: Optional[Pattern[str]] = None
    requires: Optional[Pattern[str]] = None
    modifiers: FrozenSet[str] = frozenset(MODIFIERS)  # context modifiers that apply to this feature
    plain: str = ""  # the feature in plain words for the person (defaults to the description)
    #: an episodic event (a seizure): said as a known, recurring history ("gets seizures sometimes",
    #: bot.context aspect HABITUAL) it is not the event now but this feature ("seizure_history")
    habitual: Optional[str] = None
    #: said as happening now (aspect CURRENT: "my brother is having a seizure right now"), it counts
    #: whoever it is about: the person writing is with them
    witnessed: bool = False


def _compile(patterns: object, where: str) -> Optional[Pattern[str]]:
    if patterns is None:
        return None
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise LexiconError(f"{where}: expected a non-empty list of regular expressions")
    for p in patterns:
        try:
            re.compile(p)
        except re.error as exc:
            raise LexiconError(f"{where}: bad regular expression {p!r}: {exc}") from exc
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def load_lexicon(path: Optional[Path] = None) -> Dict[str, Feature]:
    """Read and validate the lexicon; LexiconError names the faulty feature."""
    path = Path(path or DEFAULT_PATH)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (safe loader, C build)
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path}: cannot read symptom lexicon: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("features"), dict) or not raw["features"]:
        raise LexiconError(f"{path}: expected a mapping 'features' of feature name -> definition")
    features: Dict[str, Feature] = {}
    for name, spec in raw["features"].items():
        where = f"{path}: feature {name!r}"
        if not isinstance(spec, dict):
            raise LexiconError(f"{where}: expected a mapping")
        unknown = sorted(set(spec) - _FEATURE_FIELDS)
        if unknown:
            raise LexiconError(f"{where}: unknown field(s) {', '.join(unknown)}")
        if spec.get("kind") not in KINDS:
            raise LexiconError(f"{where}: kind must be one of {', '.join(KINDS)}")
        if not str(spec.get("description") or "").strip():
            raise LexiconError(f"{where}: missing description")
        pattern = _compile(spec.get("patterns"), f"{where}: patterns")
        if pattern is None:
            raise LexiconError(f"{where}: missing patterns")
        modifiers = DEFAULT_MODIFIERS[spec["kind"]]
        if spec.get("context") is not None:
            listed = spec["context"]
            if not isinstance(listed, list) or any(m not in MODIFIERS for m in listed):
                raise LexiconError(f"{where}: context must be a list of {', '.join(MODIFIERS)}")
            modifiers = frozenset(listed)
        features[name] = Feature(
            name=name,
            kind=spec["kind"],
            description=str(spec["description"]),
            pattern=pattern,
            unless=_compile(spec.get("unless"), f"{where}: unless"),
            requires=_compile(spec.get("requires"), f"{where}: requires"),
            modifiers=modifiers,
            plain=str(spec.get("plain") or spec["description"]),
            habitual=spec.get("habitual"),
            witnessed=bool(spec.get("witnessed", False)),
        )
    for name, feature in features.items():
        if feature.habitual is not None and feature.habitual not in features:
            raise LexiconError(f"{path}: feature {name!r}: habitual names no feature ({feature.habitual!r})")
    return features


@lru_cache(maxsize=1)
def lexicon() -> Dict[str, Feature]:
    """The lexicon of this process (loaded and validated once)."""
    return load_lexicon()


@dataclass(frozen=True)
class Finding:
    feature: str
    start: int  # offsets in the normalised text (apostrophes removed); for debugging only
    end: int
    negated: bool = False
    past: bool = False
    chronic: bool = False
    hypothetical: bool = False
    other_person: bool = False

    @property
    def counts(self) -> bool:
        """Said of the patient, now, as a fact."""
        return not (self.negated or self.past or self.hypothetical or self.other_person)


@dataclass(frozen=True)
class SymptomReport:
    findings: Tuple[Finding, ...] = ()
    temperature_c: Optional[float] = None
    beats: Optional[float] = None
    systolic: Optional[int] = None
    pulse: Optional[int] = None
    chronic: FrozenSet[str] = field(default_factory=frozenset)  # features described as long-standing

    @property
    def present(self) -> FrozenSet[str]:
        """Features the person reports now: said, not denied, not in the past. Within one message
        the last statement about a feature wins ("no fever yesterday, but now I'm burning up")."""
        last: Dict[str, Finding] = {}
        asserted: Set[str] = set()
        for f in sorted(self.findings, key=lambda f: f.start):
            if f.hypothetical or f.other_person:
                continue  # neither confirms nor withdraws what the patient has
            last[f.feature] = f
            if f.counts:
                asserted.add(f.feature)
        return frozenset(name for name in asserted if not last[name].negated)

    @property
    def negated(self) -> FrozenSet[str]:
        """Features the person says they do not have."""
        return frozenset(f.feature for f in self.findings if f.negated) - self.present


_INDICATION = re.compile(r"\b(?:for|against|to help with|helps with|to stop|to control) (?:my |his |her |their |the )?(?:\w+ )?$")


_VISIT = frozenset("er ed hospital doctor doctors gp clinic ambulance ems 911 care went go going came admitted seen "
                   "checked tested in here there looking out time".split())


def _is_indication(text: str, start: int) -> bool:
    m = _INDICATION.search(text, max(0, start - 40), start)
    if m is None:
        return False
    before = text[max(0, m.start() - 20):m.start()].split()
    return not (before and before[-1] in _VISIT)


_BEAT_WORD = r"(?:beats?|jerks?|bounces?|pulses?|contractions?|kicks?|twitches)"
_BEAT_RANGE = re.compile(rf"\b(\d+)\s*(?:-|to|or)\s*(\d+)\s+(?:\w+\s+){{0,2}}?{_BEAT_WORD}\b(?!\s*(?:per|a|/)\s*min)")
_BEAT_ONE = re.compile(
    rf"\b(\d+|{'|'.join(NUMBER_WORDS)})\s+(?:of\s+)?(?:\w+\s+){{0,2}}?{_BEAT_WORD}\b(?!\s*(?:per|a|/)\s*min)"
)
_TEMP = re.compile(r"\b(\d{2,3}(?:\.\d{1,2})?)\s*(°|º|degrees?|deg)?\s*(celsius|fahrenheit|c|f)?\b")
_TEMP_CONTEXT = re.compile(r"(?:temp\w*|fever\w*|thermometer|febrile|running|burning up|reading|°|º)[^.!?;]{0,20}$")
_NOT_TEMP_AFTER = re.compile(r"^\s*(?:mg|mcg|ml|kg|lbs?|pounds|years?|yrs?|yo|beats?|bpm|%|mins?|minutes|seconds|secs|hours?|days?|x|times|/)")
_BP = re.compile(r"\b(?:bp|blood pressure)\b[^\d.!?;]{0,20}(\d{2,3})\s*(?:/|over)\s*(\d{2,3})")
_PULSE = re.compile(r"\b(?:pulse|heart ?rate|hr)\b[^\d.!?;]{0,15}(\d{2,3})\b|\b(\d{2,3})\s*(?:bpm|beats (?:per|a) min)")


def _temperature(text: str) -> Optional[float]:
    """Highest plausible body temperature in the text, in °C ("101F", "38.5", "temp of 102")."""
    best: Optional[float] = None
    for m in _TEMP.finditer(text):
        value = float(m.group(1))
        unit = (m.group(3) or "")[:1]
        after = text[m.end():m.end() + 8]
        if _NOT_TEMP_AFTER.match(after) and not unit:
            continue
        context = bool(_TEMP_CONTEXT.search(text[max(0, m.start() - 30):m.start()])) or bool(m.group(2))
        celsius: Optional[float] = None
        if unit == "c" or (not unit and 34 <= value <= 43.5):
            if 34 <= value <= 43.5 and (context or unit or "." in m.group(1)):
                celsius = value
        elif unit == "f" or (not unit and 93 <= value <= 110):
            if 93 <= value <= 110 and (context or unit):
                celsius = (value - 32) * 5 / 9
        if celsius is not None and (best is None or celsius > best):
            best = round(celsius, 1)
    return best


#: The count after the movement: "it bounces about 8 times", "jerked like 12 times" (the movement first).
_BEAT_TIMES = re.compile(
    rf"\b(?:bounc|beat|jerk|kick|puls|twitch|tap|pump|thump|judder)\w*\s+(?:(?:about|around|like|maybe|roughly|over|"
    rf"more than|at least|up to|nearly|almost)\s+)?(\d+|{'|'.join(NUMBER_WORDS)})"
    # a range, "like 8 or 9 times", "6-7 times", "five or six times": the larger (the more cautious reading)
    rf"(?:\s*(?:-|to|or)\s*(\d+|{'|'.join(NUMBER_WORDS)}))?\s+(?:times|x)\b"
)


def _beats(text: str) -> Optional[float]:
    best: Optional[float] = None
    for m in _BEAT_TIMES.finditer(text):
        for word in filter(None, (m.group(1), m.group(2))):
            value = float(word) if word.isdigit() else float(NUMBER_WORDS[word])
            best = value if best is None else max(best, value)
    for m in _BEAT_RANGE.finditer(text):
        value = float(max(int(m.group(1)), int(m.group(2))))
        best = value if best is None else max(best, value)
    for m in _BEAT_ONE.finditer(text):
        word = m.group(1)
        value = float(word) if word.isdigit() else float(NUMBER_WORDS[word])
        best = value if best is None else max(best, value)
    return best


#: Features named by their medical word, which people also ask about without having them.
_NAMED_IN_QUESTIONS = frozenset({"clonus"})
_REPORT_CUE = re.compile(
    r"\b(?:my|his|her|their|our) (?:\w+ )?(?:legs?|foot|feet|ankles?|calf|calves|arms?|hands?|knees?|muscles?|toes?|"
    r"wrists?|body|clonus|spasms?|jerk\w*|twitch\w*|reflexes)\b"
    r"|\b(?:i|im|ive|he|hes|she|shes|they|theyre|we) (?:\w+ )?(?:have|has|get|gets|am having|is having|are having|keep|keeps|"
    r"noticed|notice|started|been having|feel|feels)\b|\b(?:having|getting|got) (?:\w+ )?clon"
)


#: A clause that opens with a question word is a question, with or without its "?" ("anyway what
#: causes clonus", "how long does clonus last").
_QUESTION_OPENING = re.compile(
    r"\W*(?:(?:anyway|anyways|so|also|and|ok|okay|oh|btw|quick question|question|q|random q|just wondering)\W+)*"
    r"(?:what|whats|why|how|hows|which|is|are|can|could|does|do|should|will)\b"
)


def _asks_about(text: str, start: int, end: int) -> bool:
    """The clause is a question that names the feature without reporting it for anyone now:
    "is clonus a thing with prozac?", "can the clonus she had come back?", "anyway what causes clonus"."""
    after = text[end:end + 2]
    asked = "?" in after or bool(_QUESTION_OPENING.match(text, start, end))
    return asked and not _REPORT_CUE.search(text, start, end)


#: The forward negation triggers of bot.context (one alternation), to find a trigger inside a match.
_NEGATION_TRIGGER = re.compile("|".join(f"(?:{t.pattern.pattern})" for t in TRIGGERS
                                        if t.category == NEGATED and t.direction == FORWARD))
_SPACES = re.compile(r"\s+")


def _negated_inside(feature: Feature, ctx: Context, start: int, end: int) -> bool:
    """A negation said INSIDE what a pattern matched, between its subject and the sign: "face isnt
    drooping", "my eyes are not flicking". A context scope is read at the start of a match, and here
    the subject comes before the trigger. The negation counts only when the pattern still matches
    with the trigger word taken out: a pattern that needs the word ("is not himself", "jerking without
    me doing anything", "she wont stay awake") states the sign, it does not deny it."""
    text = ctx.norm
    for sc in ctx.scopes:
        if sc.category != NEGATED or not (start < sc.start < end) or sc.end < end - 1:
            continue
        trigger = None
        for t in _NEGATION_TRIGGER.finditer(text, start, sc.start):
            if t.end() == sc.start:
                trigger = t
        if trigger is None or trigger.start() == start:
            continue
        without = _SPACES.sub(" ", text[start:trigger.start()] + text[trigger.end():end])
        if feature.pattern.search(without):
            return True
    return False


_AUTO = "\0auto"


def extract(text: str, patient: Optional[str] = _AUTO) -> SymptomReport:
    """Symptom features of one message. `patient` is the relation the person speaks for (bot.context
    .patient_of), so that words about another relation count as someone else's. Errors raise: the
    conversation boundary (bot.triage.Assessor callers) decides what to do with them."""
    text = clean(text)
    if patient == _AUTO:
        patient = patient_of([text]).key
    return _extract_cached(text, patient)


@lru_cache(maxsize=4096)
def _extract_cached(original: str, patient: Optional[str]) -> SymptomReport:
    ctx = context(original, patient)
    text = ctx.norm
    if not text.strip():
        return SymptomReport()
    findings: List[Finding] = []
    chronic_clauses: Set[Tuple[int, int]] = set()
    lex = lexicon()
    chronic = lex["chronic"]
    for m in chronic.pattern.finditer(text):
        chronic_clauses.add(ctx.clause(m.start()))
    for feature in lex.values():
        if feature.requires is not None and not feature.requires.search(text):
            continue
        for m in feature.pattern.finditer(text):
            cs, ce = ctx.clause(m.start())
            if feature.unless is not None and feature.unless.search(text, cs, ce):
                continue
            # The start only: a denial INSIDE the match is read by _negated_inside, which keeps the
            # patterns that need their negation word ("i wish i wasnt here", "not himself"); the
            # context's own inner-denial reading (Context.at with an end) is for medicine names.
            mods = ctx.at(m.start())
            if feature.habitual is not None or feature.witnessed:
                # the aspect of an episodic event reads the whole match ("gets seizures": a plural)
                aspect = ctx.aspect(m.start(), m.end())
                mods = replace(mods, current_event=aspect == CURRENT, habitual=aspect == HABITUAL)
            if not mods.negated and "negated" in feature.modifiers and _negated_inside(feature, ctx, m.start(), m.end()):
                mods = replace(mods, negated=True)
            if feature.name in _NAMED_IN_QUESTIONS and _asks_about(text, cs, ce):
                mods = replace(mods, hypothetical=True)  # "is clonus a thing with prozac?": asked, not reported
            # "zofran for chemo nausea", "baclofen for spasms": why a medicine is taken, not a new sign.
            indication = feature.kind == "symptom" and _is_indication(text, m.start())
            use = feature.modifiers
            other = "other_person" in use and mods.other_person and not (feature.witnessed and mods.current_event)
            habit = feature.habitual is not None and mods.habitual
            finding = Finding(feature.name, m.start(), m.end(),
                              negated="negated" in use and mods.negated,
                              past=("historical" in use and mods.historical) or habit,
                              chronic=(cs, ce) in chronic_clauses or indication,
                              hypothetical="hypothetical" in use and mods.hypothetical and not mods.negated,
                              other_person=other)
            findings.append(finding)
            if habit and feature.habitual is not None:
                # RF-SEIZURE is a seizure now; a known, recurring history of them is its own feature
                findings.append(replace(finding, feature=feature.habitual, past="historical" in use and mods.historical))
    extra: List[Finding] = []
    temp = _temperature(text)
    if temp is not None and temp >= FEVER_C:
        extra.append(Finding("fever", len(text), len(text)))
    beats = _beats(text)
    if beats is not None:
        extra.append(Finding("clonus_sustained" if beats > BRIEF_BEATS else "clonus_brief", len(text), len(text)))
    systolic = pulse = None
    bp = _BP.search(text)
    if bp:
        systolic = int(bp.group(1))
        if systolic < LOW_SYSTOLIC:
            extra.append(Finding("low_blood_pressure", bp.start(), bp.end()))
    for m in _PULSE.finditer(text):
        value = int(m.group(1) or m.group(2))
        pulse = max(pulse or 0, value)
        if value > TACHYCARDIA_BPM:
            extra.append(Finding("tachycardia", m.start(), m.end()))
    found = findings + extra
    chronic_features = frozenset(f.feature for f in found if f.chronic)
    return SymptomReport(
        findings=tuple(found), temperature_c=temp, beats=beats, systolic=systolic, pulse=pulse,
        chronic=chronic_features,
    )
