"""Medicine knowledge base (bot/knowledge/medicines.yml) and the spaCy-based medicine recogniser.

`recognise(text)` finds medicines in a person's own words (generic, brand and street names, any
capitalisation, glued to doses, misspelled) and tells what the person takes now from what they took
before or never took. `analyse(text)` also returns medicine-like words it could not place.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

import yaml

from bot.text_utils import KNOWLEDGE_DIR, clean, days_ago, english_words, osa_distance

log = logging.getLogger(__name__)

DEFAULT_PATH = KNOWLEDGE_DIR / "medicines.yml"

#: Classes that make a medicine serotonergic (policy section 3).
SEROTONERGIC_CLASSES = frozenset(
    {
        "ssri", "snri", "tca", "tca_strong", "maoi", "hidden_maoi", "serotonergic_opioid",
        "serotonergic_opioid_weak", "triptan", "antiemetic", "other_serotonergic", "herbal", "recreational",
    }
)
#: Classes the triage rules refer to; the knowledge base must define each of them.
REQUIRED_CLASSES = SEROTONERGIC_CLASSES | {
    "gabapentinoid", "benzodiazepine", "opioid", "muscle_relaxant", "cyp1a2_inhibitor",
    "cyp1a2_contraindicated", "fluoroquinolone", "other",
}
_FIELDS = {"name", "classes", "synonyms", "brands", "street", "misspellings", "context_only", "exact_case", "source"}
_ALIAS_FIELDS = ("synonyms", "brands", "street", "misspellings")


class KnowledgeError(ValueError):
    """The medicine knowledge base is invalid; the message names the file and the entry."""


@dataclass(frozen=True)
class Medicine:
    name: str
    classes: FrozenSet[str]
    source: str
    aliases: Tuple[str, ...]  # every written form, the name included
    context_only: FrozenSet[str] = frozenset()  # lowercased
    exact_case: FrozenSet[str] = frozenset()  # as written

    @property
    def serotonergic(self) -> bool:
        return bool(self.classes & SEROTONERGIC_CLASSES)


@dataclass(frozen=True)
class Knowledge:
    classes: Dict[str, str]
    sources: Dict[str, str]
    medicines: Dict[str, Medicine]  # by canonical name
    alias_index: Dict[str, str]  # lowercased alias -> canonical name

    def get(self, name: str) -> Optional[Medicine]:
        return self.medicines.get(name)

    def lookup(self, alias: str) -> Optional[Medicine]:
        """The medicine a written name stands for (exact alias, any capitalisation), or None."""
        name = self.alias_index.get(_alias_key(alias))
        return self.medicines.get(name) if name else None


def _alias_key(alias: str) -> str:
    return re.sub(r"\s+", " ", alias.strip().lower())


def _strings(value: Any, where: str) -> List[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise KnowledgeError(f"{where}: expected a list of names, got {value!r}")
    out = [str(v).strip() for v in value]
    if any(not v for v in out):
        raise KnowledgeError(f"{where}: empty name in list")
    return out


def load_knowledge(path: Optional[Path] = None) -> Knowledge:
    """Read and validate the knowledge base. Raises KnowledgeError naming the faulty entry for an
    unknown class, a duplicate alias, a missing or unknown source, or a malformed entry."""
    path = Path(path or DEFAULT_PATH)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"{path}: cannot read medicine knowledge base: {exc}") from exc
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path}: expected a mapping with classes, sources and medicines")
    classes = raw.get("classes")
    sources = raw.get("sources")
    entries = raw.get("medicines")
    if not isinstance(classes, dict) or not classes:
        raise KnowledgeError(f"{path}: 'classes' must be a non-empty mapping of class -> meaning")
    if not isinstance(sources, dict) or not sources:
        raise KnowledgeError(f"{path}: 'sources' must be a non-empty mapping of key -> citation")
    if not isinstance(entries, list) or not entries:
        raise KnowledgeError(f"{path}: 'medicines' must be a non-empty list")
    missing_classes = sorted(REQUIRED_CLASSES - set(classes))
    if missing_classes:
        raise KnowledgeError(f"{path}: classes used by the triage rules are not defined: {', '.join(missing_classes)}")

    medicines: Dict[str, Medicine] = {}
    alias_index: Dict[str, str] = {}
    for number, entry in enumerate(entries, start=1):
        label = f"{path}: medicine #{number}"
        if not isinstance(entry, dict):
            raise KnowledgeError(f"{label}: expected a mapping, got {entry!r}")
        name = str(entry.get("name") or "").strip()
        if not name:
            raise KnowledgeError(f"{label}: missing name")
        label = f"{path}: medicine #{number} ({name!r})"
        if name != name.lower():
            raise KnowledgeError(f"{label}: the canonical name must be lowercase")
        unknown_fields = sorted(set(entry) - _FIELDS)
        if unknown_fields:
            raise KnowledgeError(f"{label}: unknown field(s) {', '.join(unknown_fields)}")
        entry_classes = _strings(entry.get("classes"), f"{label}: classes")
        if not entry_classes:
            raise KnowledgeError(f"{label}: missing classes")
        unknown = [c for c in entry_classes if c not in classes]
        if unknown:
            raise KnowledgeError(f"{label}: unknown class {unknown[0]!r} (known: {', '.join(sorted(classes))})")
        source = str(entry.get("source") or "").strip()
        if not source:
            raise KnowledgeError(f"{label}: missing source (where its classification comes from)")
        if source not in sources:
            raise KnowledgeError(f"{label}: unknown source {source!r} (not a key of 'sources')")
        aliases = [name]
        for fld in _ALIAS_FIELDS:
            aliases.extend(_strings(entry.get(fld), f"{label}: {fld}"))
        seen: Dict[str, str] = {}
        for alias in aliases:
            key = _alias_key(alias)
            if key in seen:
                raise KnowledgeError(f"{label}: duplicate alias {alias!r} (listed twice in this entry)")
            if key in alias_index:
                raise KnowledgeError(f"{label}: duplicate alias {alias!r} (already used by {alias_index[key]!r})")
            seen[key] = alias
        context_only = _strings(entry.get("context_only"), f"{label}: context_only")
        exact_case = _strings(entry.get("exact_case"), f"{label}: exact_case")
        for alias in context_only + exact_case:
            if _alias_key(alias) not in seen:
                raise KnowledgeError(f"{label}: {alias!r} is in context_only/exact_case but is not one of its names")
        if name in medicines:
            raise KnowledgeError(f"{label}: duplicate medicine name")
        for key in seen:
            alias_index[key] = name
        medicines[name] = Medicine(
            name=name,
            classes=frozenset(entry_classes),
            source=source,
            aliases=tuple(aliases),
            context_only=frozenset(_alias_key(a) for a in context_only),
            exact_case=frozenset(exact_case),
        )
    return Knowledge(classes=dict(classes), sources=dict(sources), medicines=medicines, alias_index=alias_index)


@lru_cache(maxsize=1)
def knowledge() -> Knowledge:
    """The knowledge base of this process (loaded and validated once)."""
    return load_knowledge()


# ----------------------------------------------------------------------------------------- mentions


@dataclass(frozen=True)
class Mention:
    """One medicine named in a message. start/end are character offsets into the message."""

    start: int
    end: int
    text: str
    name: str
    classes: Tuple[str, ...]
    status: str  # "current" | "past" | "negated" (negated only with include_negated=True)
    days_since_stop: Optional[float] = None
    stopped: bool = False  # an explicit stop event (stopped, quit, ran out, missed), not just "used to"
    started_recently: bool = False  # "started", "dose went up", "added", "gave me" ...
    days_since_start: Optional[float] = None
    fuzzy: bool = False  # matched as a misspelling by edit distance


@dataclass(frozen=True)
class Recognition:
    mentions: List[Mention]
    unrecognised: List[str] = field(default_factory=list)


# Words before a context-only street name that make it a drug ("took molly", "did some acid").
_DRUG_CONTEXT = frozenset(
    "took take takes taking did do does doing done on using use used uses smoked smoke smoking snorted "
    "snort snorting popped pop popping dropped drop dropping rolled rolling high tripping tripped injected "
    "inject shooting tried try bought buy sold selling scored score line lines bump bumps hit gram grams "
    "bag tab tabs drinking drink drank sipping addicted withdrawal overdose od od'd od'ed plus".split()
)
_SKIP_BEFORE = frozenset("a an some the little bit of more much lot lots too few couple".split())
_FOLLOW_DRUG = frozenset("pill pills tab tabs use user users habit addiction overdose comedown come high".split())
_FOLLOW_BLOCK = frozenset(
    "reflux indigestion rain test tests bump bumps limit limits camera cameras pack packs cream cold clear "
    "cube cubes age lips lip fingers finger skin eyes eye sky water bath bucket dryer tray cap caps box "
    "ball balls dial of cat dog horse pony rink skating skates storm road roads skate".split()
)
_POSSESSIVE = frozenset("my his her your our their its this that these those".split())

_NEG_WORDS = frozenset("n't nt not dont didnt doesnt havent hasnt isnt arent aint wasnt werent".split())
_TAKE_VERBS = frozenset(
    "take taking taken took takes use using used on have had prescribed given been touch touched do doing "
    "did get got".split()
)
_MISSED_AUX = frozenset("did have has had".split())
_CURRENT_CUES = frozenset(
    "take takes taking took on started start starting began begun now currently still prescribed gave "
    "given added use using uses also only just plus increased upped and_started put".split()
)
_START_CUES = frozenset("started start starting began begun added increased upped raised doubled new gave given prescribed put".split())
# Two-word cues checked before one-word cues; value = (status, stop_event)
_PAST_BIGRAMS = {
    ("came", "off"): ("past", True), ("come", "off"): ("past", True), ("went", "off"): ("past", True),
    ("got", "off"): ("past", True), ("weaned", "off"): ("past", True), ("tapered", "off"): ("past", True),
    ("been", "off"): ("past", True), ("ran", "out"): ("past", True), ("run", "out"): ("past", True),
    ("running", "out"): ("past", True), ("out", "of"): ("past", True), ("used", "to"): ("past", False),
    ("was", "on"): ("past", False), ("were", "on"): ("past", False), ("was", "taking"): ("past", False),
    ("no", "longer"): ("past", True), ("gave", "up"): ("past", True), ("switched", "from"): ("past", True),
    ("changed", "from"): ("past", True), ("moved", "from"): ("past", True), ("had", "been"): ("past", False),
}
_PAST_WORDS = {
    "stopped": ("past", True), "quit": ("past", True), "quitted": ("past", True), "discontinued": ("past", True),
    "missed": ("past", True), "forgot": ("past", True), "off": ("past", True), "previously": ("past", False),
    "formerly": ("past", False), "finished": ("past", True), "stop": ("past", True), "stopping": ("past", True),
}
_TRAILING_STOP = frozenset("stopped quit discontinued".split())
_AFTER_TRAILING_STOP = frozenset(
    "it them that those suddenly abruptly cold yesterday today last recently just on a an few couple several "
    "because when since after , . ! ? ; and - weeks days months years".split()
)
# A new verb after a name starts what belongs to the next name ("on Prozac and they just added lithium").
_TIME_WINDOW_STOP = _START_CUES | frozenset(_PAST_WORDS) | {"now", "currently", "switched"}
_CLAUSE_BREAK = frozenset(". ! ? ; but however although though whereas".split())
_ANAPHORA = frozenset("it them those these that".split())
_DOSE = re.compile(r"^\d+(?:\.\d+)?(?:mg|mcg|µg|ug|ml|g|iu|units?|mgs)?$", re.I)
_DOSE_UNIT = frozenset("mg mcg µg ug ml milligrams mgs units iu tablet tablets tabs pill pills capsule capsules".split())
_DRUGLIKE_ENDING = re.compile(
    r"(?:ine|ol|am|pam|lam|pril|sartan|statin|mab|nib|xa|zole|pine|done|cin|cillin|mycin|vir|tide|lone|sone|"
    r"dine|ide|ate|xin|ex|yl|ax|an|ix|il|in|ene|one|ium|ate)$"
)
_UNRECOGNISED_CONTEXT = frozenset(
    "take takes taking took started start starting prescribed prescribe given gave using use tried try called "
    "named plus added swapped switched".split()
)


class _Recogniser:
    """spaCy blank English tokenizer plus a PhraseMatcher over every alias; built once per process."""

    def __init__(self, kb: Knowledge) -> None:
        import spacy  # local: importing spaCy costs ~1 s; only pay it when recognising
        from spacy.matcher import PhraseMatcher
        from spacy.util import compile_infix_regex, compile_suffix_regex

        self.kb = kb
        nlp = spacy.blank("en")
        # Split doses glued to names ("baclofen10mg" -> "baclofen", "10mg") and "zoloft+tramadol".
        suffixes = list(nlp.Defaults.suffixes) + [r"(?<=[A-Za-z]{3})\d+(?:\.\d+)?(?:mg|mcg|ml|g)?"]
        nlp.tokenizer.suffix_search = compile_suffix_regex(suffixes).search
        infixes = list(nlp.Defaults.infixes) + [r"[+&]", r"(?<=[A-Za-z]{3})(?=\d)"]
        nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
        self.nlp = nlp
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.alias_info: Dict[str, Tuple[str, str]] = {}  # match key -> (medicine name, alias as written)
        fuzzy: Dict[str, List[Tuple[str, str]]] = {}
        for med in kb.medicines.values():
            for alias in med.aliases:
                key = f"{med.name}|{alias}"
                self.alias_info[key] = (med.name, alias)
                variants = {alias, alias.replace(".", ""), alias.replace("'", ""), alias.replace("-", " "),
                            alias.replace("-", ""), alias.replace(".", "").replace("'", "")}
                self.matcher.add(key, [nlp.make_doc(v) for v in sorted(variants) if v.strip()])
                low = alias.lower()
                if (low.isalpha() and len(low) >= 5 and _alias_key(alias) not in med.context_only
                        and alias not in med.exact_case):
                    for first in _first_letters(low[0]):
                        fuzzy.setdefault(first, []).append((low, med.name))
        self.fuzzy = fuzzy
        self.english = english_words()
        self.alias_keys = frozenset(kb.alias_index)

    # -------------------------------------------------------------------------------- matching
    def _fuzzy(self, token: str) -> Optional[str]:
        """The one medicine a misspelled token stands for, or None (no match, or two medicines)."""
        limit = 1 if len(token) <= 7 else 2
        best = limit + 1
        names: set = set()
        for alias, name in self.fuzzy.get(token[0], ()):
            if abs(len(alias) - len(token)) > limit:
                continue
            d = osa_distance(token, alias, limit)
            if d < best:
                best, names = d, {name}
            elif d == best:
                names.add(name)
        if best <= limit and len(names) == 1:
            return next(iter(names))
        return None

    def analyse(self, text: str) -> Recognition:
        text = clean(text)
        if not text.strip():
            return Recognition([], [])
        doc = self.nlp(text)
        low = [t.lower_ for t in doc]
        spans: List[Tuple[int, int, str, bool]] = []  # token start, token end, medicine, fuzzy
        for match_id, start, end in self.matcher(doc):
            name, alias = self.alias_info[self.nlp.vocab.strings[match_id]]
            med = self.kb.medicines[name]
            surface = doc[start:end].text
            if med.exact_case and alias in med.exact_case and surface.replace(" ", "") != alias.replace(" ", ""):
                continue
            if _alias_key(alias) in med.context_only and not _drug_context(doc, low, start, end):
                continue
            spans.append((start, end, name, False))
        spans = _longest_first(spans)
        taken = {i for s, e, _, _ in spans for i in range(s, e)}
        unrecognised: List[str] = []
        for i, tok in enumerate(doc):
            if i in taken or not tok.is_alpha or len(tok.text) < 5:
                continue
            word = low[i]
            if word in self.english or word in self.alias_keys:
                continue
            name = self._fuzzy(word)
            if name is not None:
                spans.append((i, i + 1, name, True))
                taken.add(i)
            elif _looks_like_medicine(doc, low, i, spans):
                if tok.text not in unrecognised:
                    unrecognised.append(tok.text)
        spans.sort()
        statuses = _statuses(doc, low, spans)
        mentions = []
        for (s, e, name, fz), st in zip(spans, statuses, strict=True):
            span = doc[s:e]
            mentions.append(
                Mention(
                    start=span.start_char, end=span.end_char, text=span.text, name=name,
                    classes=tuple(sorted(self.kb.medicines[name].classes)), fuzzy=fz, **st,
                )
            )
        return Recognition(mentions, unrecognised)


def _first_letters(letter: str) -> Tuple[str, ...]:
    # Sound-alike first letters that people swap ("clonopin", "xanax"/"zanax", "fenergan").
    pairs = {"c": "ck", "k": "kc", "x": "xz", "z": "zx", "f": "fp", "p": "pf", "s": "sc"}
    return tuple(pairs.get(letter, letter))


def _longest_first(spans: List[Tuple[int, int, str, bool]]) -> List[Tuple[int, int, str, bool]]:
    """Overlapping matches: keep the longest ("Tylenol with codeine" over "Tylenol")."""
    chosen: List[Tuple[int, int, str, bool]] = []
    used: set = set()
    for span in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0])):
        if any(i in used for i in range(span[0], span[1])):
            continue
        chosen.append(span)
        used.update(range(span[0], span[1]))
    return sorted(chosen)


def _drug_context(doc: Any, low: List[str], start: int, end: int) -> bool:
    """Is a street name that is also an ordinary word used as a drug here?"""
    nxt = low[end] if end < len(low) else ""
    if nxt in _FOLLOW_BLOCK:
        return False
    if nxt in _FOLLOW_DRUG:
        return True
    i = start - 1
    while i >= 0 and low[i] in _SKIP_BEFORE:
        i -= 1
    if i < 0:
        return False
    prev = low[i]
    if prev in _POSSESSIVE or low[start - 1] in _POSSESSIVE:
        return False
    if prev in _DRUG_CONTEXT:
        return True
    # In a list of medicines: "zoloft, tramadol and molly".
    if prev in {",", "and", "or", "&", "+", "with"} and i > 0:
        j = i - 1
        return j >= 0 and doc[j].is_alpha and doc[j].lower_ not in {"i", "me"} and _is_known(doc[j].lower_)
    return False


def _is_known(word: str) -> bool:
    kb = knowledge()
    med = kb.lookup(word)
    return med is not None and word not in med.context_only


def _looks_like_medicine(doc: Any, low: List[str], i: int, spans: Sequence[Tuple[int, int, str, bool]]) -> bool:
    """A word that is neither English nor a known medicine, in a place where people name medicines:
    followed by a dose ("xylophrine 20mg"), after "take/started/prescribed", or in a list of medicines."""
    nxt = doc[i + 1].text if i + 1 < len(doc) else ""
    if _DOSE.match(nxt) and any(ch.isdigit() for ch in nxt):
        return True
    if nxt.lower() in _DOSE_UNIT:
        return True
    j = i - 1
    while j >= 0 and low[j] in {"my", "some", "the", "a", "an", "called", "named", "new"}:
        j -= 1
    prev = low[j] if j >= 0 else ""
    if prev in _UNRECOGNISED_CONTEXT:
        return True
    if prev == "on":
        # "I'm on holiday" is English; "started on Flurbexa" looks like a medicine name.
        return bool(_DRUGLIKE_ENDING.search(low[i])) or doc[i].text[:1].isupper()
    if prev in {",", "and", "or", "+", "&", "/"}:
        return any(e == j for _, e, _, _ in spans)  # right after a medicine in a list
    return False


def _clauses(low: List[str], doc: Any) -> List[int]:
    """Clause number of every token: sentences, ';', 'but', 'however' ... start a new clause."""
    ids = []
    clause = 0
    for i, word in enumerate(low):
        if word in _CLAUSE_BREAK or "\n" in doc[i].text:
            clause += 1
            ids.append(clause)
            clause += 1
            continue
        ids.append(clause)
    return ids


def _statuses(doc: Any, low: List[str], spans: Sequence[Tuple[int, int, str, bool]]) -> List[Dict[str, Any]]:
    """Status of each mention (current / past / negated), with stop and start times where given."""
    n = len(low)
    clause_of = _clauses(low, doc)
    starts = {s: k for k, (s, _, _, _) in enumerate(spans)}
    result: List[Dict[str, Any]] = [
        {"status": "current", "stopped": False, "started_recently": False} for _ in spans
    ]
    state, stop_event, start_cue, clause, switching = "current", False, False, -1, False
    i = 0
    while i < n:
        if clause_of[i] != clause:
            clause, state, stop_event, start_cue, switching = clause_of[i], "current", False, False, False
        word = low[i]
        if i in starts:
            k = starts[i]
            prev = low[i - 1] if i > 0 else ""
            status = state
            if prev in {"no", "without", "nor"}:
                status = "negated"
            result[k].update(status=status, stopped=stop_event and status == "past", started_recently=start_cue and status == "current")
            i = spans[k][1]
            continue
        pair = (word, low[i + 1]) if i + 1 < n else None
        if pair in _PAST_BIGRAMS:
            state, stop_event = _PAST_BIGRAMS[pair]
            switching = pair[0] in {"switched", "changed", "moved"}
            i = _skip_verbs(low, i + 2, n)  # "used to take", "was on": the verb is part of the cue
            continue
        if word in {"switched", "changed", "moved", "swapped", "switch", "change"}:
            switching = True
        if word == "never":
            state, stop_event = "negated", False
            i = _skip_verbs(low, i + 1, n)  # "never took", "never been on"
            continue
        elif word in _NEG_WORDS:
            # Negation counts only when it governs taking something ("don't take", "not on"), so
            # that "I'm not sure tramadol is safe" keeps tramadol current.
            verb = next((j for j in range(i + 1, min(i + 4, n)) if low[j] in _TAKE_VERBS), None)
            if verb is not None:
                aux = low[i - 1] if i > 0 else ""
                if aux in _MISSED_AUX and low[verb] in {"take", "taken", "had", "took"} and _missed(low, verb, n, clause_of):
                    state, stop_event = "past", True  # "haven't taken my baclofen for 2 days"
                else:
                    state, stop_event = "negated", False
                i = verb + 1
                continue
        elif word in _PAST_WORDS and not (word == "off" and i > 0 and low[i - 1] in {"turned", "wore", "wears", "wearing", "wear", "showed"}):
            state, stop_event = _PAST_WORDS[word]
        elif word == "from" and i > 0 and switching:
            state, stop_event = "past", True
        elif word == "to" and switching:
            state, stop_event, start_cue = "current", False, True
        elif word in _CURRENT_CUES and not (word == "on" and state == "negated"):
            # "and" lists keep the state ("stopped zoloft and tramadol"); a new verb changes it.
            state, stop_event = "current", False
            start_cue = word in _START_CUES or start_cue and word in {"on", "also", "and"}
        elif word in {"anymore", "any"} and (word == "anymore" or (i + 1 < n and low[i + 1] == "more")):
            for k, (s, _, _, _) in enumerate(spans):
                if clause_of[s] == clause and s < i and result[k]["status"] == "negated":
                    result[k].update(status="past", stopped=True)
        i += 1
    _trailing_cues(doc, low, spans, result, clause_of)
    _times(doc, spans, result, clause_of)
    return result


def _skip_verbs(low: List[str], i: int, n: int) -> int:
    """Index after the verbs that belong to a cue just read ("never [have taken]", "used to [take]")."""
    j = i
    while j < n and j < i + 3 and low[j] in _TAKE_VERBS | {"be", "ever", "have", "has", "been", "really", "even"}:
        j += 1
    return j


def _missed(low: List[str], verb: int, n: int, clause_of: List[int]) -> bool:
    """After "haven't taken", is this a missed dose (my/for N days/since) or never taken at all?"""
    for j in range(verb + 1, min(verb + 8, n)):
        if clause_of[j] != clause_of[verb]:
            break
        if low[j] in {"my", "his", "her", "their", "for", "since", "in", "today", "yesterday", "dose", "doses"}:
            return True
    return False


def _trailing_cues(doc: Any, low: List[str], spans: Sequence[Tuple[int, int, str, bool]],
                   result: List[Dict[str, Any]], clause_of: List[int]) -> None:
    """Cues after a name: "xanax ... quit suddenly yesterday", "venlafaxine dose went up", and
    clauses that point back ("but I stopped it 3 days ago")."""
    n = len(low)
    for k, (s, e, _, _) in enumerate(spans):
        limit = spans[k + 1][0] if k + 1 < len(spans) else n
        for j in range(e, limit):
            if clause_of[j] != clause_of[s]:
                break
            word = low[j]
            nxt = low[j + 1] if j + 1 < n else "."
            if word in _TRAILING_STOP and (nxt in _AFTER_TRAILING_STOP or nxt.isdigit()) and result[k]["status"] == "current":
                result[k].update(status="past", stopped=True, started_recently=False)
                stop_end = j + 1
                while stop_end < limit and clause_of[stop_end] == clause_of[s]:
                    stop_end += 1
                found = days_ago(doc[j:stop_end].text, allow_duration=True)
                if found:
                    result[k].update(days_since_stop=found[0], _timed=True)
                _apply_to_list(spans, result, k, clause_of, status="past", stopped=True)
            elif j - e > 3:
                continue  # "dose went up" must follow the name closely to be about it
            elif word in {"went", "gone", "go", "was", "got", "been"} and nxt in {"up", "increased", "raised", "doubled", "added", "started"}:
                if result[k]["status"] == "current":
                    result[k]["started_recently"] = True
            elif word in {"increased", "doubled", "raised", "upped"} and result[k]["status"] == "current":
                result[k]["started_recently"] = True
    # A clause with no name that stops "it": applies to the last name before it.
    if not spans:
        return
    mention_clauses = {clause_of[s] for s, _, _, _ in spans}
    i = 0
    while i < n:
        c = clause_of[i]
        if c not in mention_clauses and low[i] in {"stopped", "quit", "ran", "run"}:
            obj = low[i + 1] if i + 1 < n else ""
            obj2 = low[i + 2] if i + 2 < n else ""
            if obj in _ANAPHORA or (low[i] in {"ran", "run"} and obj == "out") or obj2 in _ANAPHORA:
                before = [k for k, (s, _, _, _) in enumerate(spans) if s < i]
                if before:
                    k = before[-1]
                    if result[k]["status"] == "current":
                        result[k].update(status="past", stopped=True, started_recently=False)
                        clause_end = max(j for j in range(n) if clause_of[j] == c)
                        seg = doc[i:clause_end + 1].text
                        found = days_ago(seg, allow_duration=True)
                        if found:
                            result[k]["days_since_stop"] = found[0]
                            result[k]["_timed"] = True
        i += 1


def _apply_to_list(spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]], k: int,
                   clause_of: List[int], **values: Any) -> None:
    # "zoloft and tramadol, stopped them both": earlier names in the same clause share the status.
    for j in range(k - 1, -1, -1):
        if clause_of[spans[j][0]] != clause_of[spans[k][0]] or result[j]["status"] != "current":
            break
        result[j].update(**values)


def _times(doc: Any, spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]],
           clause_of: List[int]) -> None:
    """Time since stopping (past) or starting (current) for each name, from the words after it up to
    the next name, else from the words before it in the same clause."""
    n = len(doc)
    for k, (s, e, _, _) in enumerate(spans):
        if result[k].pop("_timed", False):
            continue
        clause = clause_of[s]
        end = e
        limit = spans[k + 1][0] if k + 1 < len(spans) else n
        while end < limit and clause_of[end] == clause and doc[end].lower_ not in _TIME_WINDOW_STOP:
            end += 1
        past = result[k]["status"] == "past"
        found = days_ago(doc[e:end].text, allow_duration=past) if end > e else None
        if found is None:
            begin = s
            floor = spans[k - 1][1] if k > 0 else 0
            while begin > floor and clause_of[begin - 1] == clause:
                begin -= 1
            found = days_ago(doc[begin:s].text, allow_duration=past) if begin < s else None
        if found is None:
            continue
        if past:
            result[k]["days_since_stop"] = found[0]
        elif result[k]["status"] == "current":
            result[k]["days_since_start"] = found[0]
            lo = spans[k - 1][1] if k > 0 else 0
            if found[0] <= 14 and result[k]["started_recently"] is False and _start_word_near(doc, max(lo, s - 6), min(limit, e + 6), s, clause_of):
                result[k]["started_recently"] = True


def _start_word_near(doc: Any, lo: int, hi: int, s: int, clause_of: List[int]) -> bool:
    return any(doc[j].lower_ in _START_CUES and clause_of[j] == clause_of[s] for j in range(lo, hi))


@lru_cache(maxsize=1)
def _recogniser() -> _Recogniser:
    return _Recogniser(knowledge())


@lru_cache(maxsize=2048)
def _analyse_cached(text: str) -> Recognition:
    return _recogniser().analyse(text)


def analyse(text: str) -> Recognition:
    """Every medicine mention in `text` (negated ones included) and the medicine-like words that the
    knowledge base cannot place."""
    try:
        result = _analyse_cached(clean(text))
    except KnowledgeError:
        raise
    except Exception:  # noqa: BLE001 - odd input must never take the assistant down
        log.exception("medicine recogniser failed on a message of %d characters", len(str(text)))
        return Recognition([], [])
    return Recognition(list(result.mentions), list(result.unrecognised))


def recognise(text: str, include_negated: bool = False) -> List[Mention]:
    """Medicines named in `text`, oldest first by position, each with status "current" or "past".
    Names the person says they do not take ("I don't take tramadol") are left out unless
    include_negated is set (then their status is "negated")."""
    mentions = analyse(text).mentions
    if include_negated:
        return mentions
    return [m for m in mentions if m.status != "negated"]


def with_status(mention: Mention, status: str) -> Mention:
    """A copy of a mention with another status (used when a later message corrects an earlier one)."""
    return replace(mention, status=status)
