"""The medicine recogniser: finds the medicines of the knowledge base (bot.knowledge_base) in a message.

`recognise(text)` finds medicines in a person's own words (generic, brand and street names, any
capitalisation, glued to doses, misspelled) and tells what the person takes now from what they took
before or never took. `analyse(text)` also returns medicine-like words it could not place.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bot.context import Context, context, patient_of, same_relation
from bot.knowledge_base import (  # noqa: F401  (re-exported: bot.medications is the public face)
    DEFAULT_PATH,
    REQUIRED_CLASSES,
    Knowledge,
    KnowledgeError,
    Medicine,
    _alias_key,
    load_knowledge,
)
from bot.text_utils import KNOWLEDGE_DIR, clean, days_ago, english_words, non_medicine_words, osa_distance
from bot.vocab import SEROTONERGIC_CLASSES  # noqa: F401

log = logging.getLogger(__name__)

#: `source` of the entries scripts/build_medicines.py brings from the open vocabularies (class `other`).
VOCABULARY_SOURCE = "vocabulary"

# ----------------------------------------------------------------------------------------- mentions


@dataclass(frozen=True)
class Mention:
    """One medicine named in a message. start/end are character offsets into the message."""

    start: int
    end: int
    text: str
    name: str
    classes: Tuple[str, ...]
    status: str  # "current" | "past" | "hypothetical" | "negated" | "other" (the last two only with include_negated=True)
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
    "bag tab tabs drinking drink drank sipping addicted withdrawal overdose od od'd od'ed plus no touched touch "
    "touching brought bring bringing microdose microdoses microdosing microdosed except besides".split()
)
_SKIP_BEFORE = frozenset("a an some the little bit of more much lot lots too few couple half quarter".split())
_FOLLOW_DRUG = frozenset("pill pills tab tabs use user users habit addiction overdose comedown come high".split())
_FOLLOW_BLOCK = frozenset(
    "reflux indigestion rain test tests bump bumps limit limits camera cameras pack packs cream cold clear "
    "cube cubes age lips lip fingers finger skin eyes eye sky water bath bucket dryer tray cap caps box "
    "ball balls dial of cat dog horse pony rink skating skates storm road roads skate".split()
)
#: After a bare dose that follows a name: the end of what is said about it ("soma 350 when ...", "soma 350, ...").
_AFTER_DOSE = frozenset(". , ! ? ; when at as prn and for with".split())
_POSSESSIVE = frozenset("my his her your our their its this that these those".split())

_NEG_WORDS = frozenset("n't nt not dont didnt doesnt havent hasnt isnt arent aint wasnt werent".split())
_TAKE_VERBS = frozenset(
    "take taking taken took takes use using used on have had prescribed given been touch touched do doing "
    "did get got".split()
)
_MISSED_AUX = frozenset("did have has had".split())
#: Verbs of a dose not taken for a while: "haven't taken my baclofen for 2 days", "haven't touched
#: coke in 6 months" (a stop, with its time), not "I haven't taken tramadol" (never taken).
_MISSED_VERBS = frozenset("take taken had took touched used done smoked".split())
_CURRENT_CUES = frozenset(
    "take takes taking took on started start starting began begun begin beginning now currently still prescribed gave "
    "given added use using uses also only just plus increased upped and_started put".split()
)
_START_CUES = frozenset("started start starting began begun begin beginning added increased upped raised doubled new gave given prescribed put".split())
# Two-word cues checked before one-word cues; value = (status, stop_event)
_PAST_BIGRAMS = {
    ("came", "off"): ("past", True), ("come", "off"): ("past", True), ("went", "off"): ("past", True),
    ("got", "off"): ("past", True), ("weaned", "off"): ("past", True), ("tapered", "off"): ("past", True),
    ("been", "off"): ("past", True), ("ran", "out"): ("past", True), ("run", "out"): ("past", True),
    ("running", "out"): ("past", True), ("out", "of"): ("past", True), ("used", "to"): ("past", False),
    ("was", "on"): ("past", False), ("were", "on"): ("past", False), ("was", "taking"): ("past", False),
    ("no", "longer"): ("past", True), ("gave", "up"): ("past", True), ("switched", "from"): ("past", True),
    ("changed", "from"): ("past", True), ("moved", "from"): ("past", True), ("had", "been"): ("past", False),
    ("done", "with"): ("past", True), ("finished", "with"): ("past", True),  # "done with the cipro course"
    # a taper under way: still taken, at a lower dose each step (not a stop; RX-BENZO-STOP, RX-BACLOFEN-STOP)
    ("tapering", "off"): ("current", False), ("weaning", "off"): ("current", False),
    ("tapering", "down"): ("current", False), ("weaning", "down"): ("current", False),
}
_PAST_WORDS = {
    "stopped": ("past", True), "quit": ("past", True), "quitted": ("past", True), "discontinued": ("past", True),
    "missed": ("past", True), "forgot": ("past", True), "off": ("past", True), "previously": ("past", False),
    "formerly": ("past", False), "finished": ("past", True), "completed": ("past", True), "stop": ("past", True),
    "stopping": ("past", True),
    # Spanish: "dejé el clonazepam de golpe", "suspendí la sertralina"
    "deje": ("past", True), "dejé": ("past", True), "dejo": ("past", True), "dejó": ("past", True),
    "suspendi": ("past", True), "suspendí": ("past", True), "suspendio": ("past", True), "suspendió": ("past", True),
}
_TRAILING_STOP = frozenset("stopped quit discontinued finished completed".split())
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
    "take takes taking took started start starting prescribed prescribe given gave give giving using use tried "
    "try called named plus added swapped switched infusion infusions injection injections shot shots "
    "prescription script sent brought bought ordered".split()
)
#: Words after a name that say it is a medicine ("lumivax shots", "sedorin 1 tab", "glucovane 500 twice daily").
_MEDICINE_AFTER = frozenset("shot shots injection injections infusion infusions patch patches drops cream spray inhaler "
                            "tab tabs tablet tablets pill pills capsule capsules samples sample dose doses".split())
_ROUTE_WORDS = frozenset("nasal eye ear oral topical skin".split())
_FREQUENCY = frozenset("daily twice once nightly weekly bid tid qid qd prn morning night bedtime every a".split())
_BEFORE_NAME = frozenset("my his her their our some the a an called named new this that generic brand him me them "
                         "us daily".split())
#: Relation words skipped between "gave my" and a name ("they gave my mom zelvorin"), or owning one.
RELATION_WORDS = _RELATION_WORDS = frozenset("mom mum mother dad father husband wife son daughter kid child baby partner grandma "
                           "grandpa grandmother grandfather brother sister boyfriend girlfriend".split())


class Token:
    """One word, number or punctuation mark of a message; `lower_` is lowercase without apostrophes
    ("Don't" -> "dont", "John's" -> "johns"), the form every table here is written in."""

    __slots__ = ("text", "lower_", "idx", "i")

    def __init__(self, text: str, idx: int, i: int) -> None:
        self.text = text
        self.lower_ = text.lower().replace("'", "")
        self.idx = idx
        self.i = i

    @property
    def is_alpha(self) -> bool:
        return self.lower_.isalpha()


class Span:
    __slots__ = ("doc", "start", "end")

    def __init__(self, doc: "Doc", start: int, end: int) -> None:
        self.doc, self.start, self.end = doc, start, end

    @property
    def start_char(self) -> int:
        return self.doc.tokens[self.start].idx if self.start < len(self.doc.tokens) else len(self.doc.text)

    @property
    def end_char(self) -> int:
        if self.end <= self.start:
            return self.start_char
        last = self.doc.tokens[self.end - 1]
        return last.idx + len(last.text)

    @property
    def text(self) -> str:
        return self.doc.text[self.start_char:self.end_char]


class Doc:
    """The tokens of a message (a small stand-in for a spaCy Doc: indexing, slicing, len)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = [Token(m.group(0), m.start(), i) for i, m in enumerate(_TOKEN.finditer(text))]

    def __len__(self) -> int:
        return len(self.tokens)

    def __iter__(self):
        return iter(self.tokens)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            start, stop, _ = key.indices(len(self.tokens))
            return Span(self, start, stop)
        return self.tokens[key]


# Words (letters with inner apostrophes), numbers with a glued unit ("10mg"), any other character.
# Letters glued to digits split ("baclofen10mg" -> "baclofen", "10mg"); "+", "/", "&" are their own tokens.
_TOKEN = re.compile(r"[^\W\d_](?:[^\W\d_]|'(?=[^\W\d_]))*|\d+(?:[.,]\d+)?(?:[^\W\d_]|µ)*|\S")
#: Bump when the compiled index changes shape, so that old caches are rebuilt.
_INDEX_VERSION = 3


def tokens(text: str) -> Tuple[str, ...]:
    return tuple(t.lower_ for t in Doc(text))


@dataclass
class _Index:
    """What the recogniser compiles from the knowledge files; cached on disk (see _index())."""

    kb: Knowledge
    phrases: Dict[Tuple[str, ...], List[Tuple[str, str]]]  # lowercased token tuple -> [(medicine, alias)]
    longest: int
    fuzzy: Dict[str, List[Tuple[str, str]]]  # first letter -> [(alias, medicine)]
    english: frozenset
    alias_keys: frozenset
    #: brands the open vocabulary alone brings: matched as a misspelling only when the word sounds the
    #: same (one vowel for another, one letter doubled or undoubled: "seroquil", "wellbutren")
    sound_alike: Dict[str, List[Tuple[str, str]]] = field(default_factory=dict)


def _compile_index(kb: Knowledge) -> _Index:
    phrases: Dict[Tuple[str, ...], List[Tuple[str, str]]] = {}
    fuzzy: Dict[str, List[Tuple[str, str]]] = {}
    sound_alike: Dict[str, List[Tuple[str, str]]] = {}
    for med in kb.medicines.values():
        for alias in med.aliases:
            variants = {alias, alias.replace(".", ""), alias.replace("-", " "), alias.replace("-", ""),
                        alias.replace(".", "").replace("'", "")}
            for v in sorted(variants):
                key = tokens(v)
                if key and (med.name, alias) not in phrases.get(key, []):
                    phrases.setdefault(key, []).append((med.name, alias))
            low = alias.lower()
            # A brand the open vocabulary alone brings (a medicine no rule uses) is not a target of fuzzy
            # matching: an unknown name one letter from a foreign brand ("spasmolin" ~ Spasmolyt) is said
            # back as unrecognised instead of being read as that medicine.
            vocabulary_brand = med.source == VOCABULARY_SOURCE and _alias_key(alias) in med.brands
            if (low.isalpha() and len(low) >= 5 and _alias_key(alias) not in med.context_only
                    and alias not in med.exact_case and _alias_key(alias) not in med.no_fuzzy and not vocabulary_brand):
                for first in _first_letters(low[0]):
                    fuzzy.setdefault(first, []).append((low, med.name))
            elif (vocabulary_brand and low.isalpha() and len(low) >= 6 and _alias_key(alias) not in med.no_fuzzy
                  and alias not in med.exact_case):
                sound_alike.setdefault(low[0], []).append((low, med.name))
    longest = max((len(k) for k in phrases), default=1)
    return _Index(kb, phrases, longest, fuzzy, non_medicine_words(), frozenset(kb.alias_index), sound_alike)


def _cache_dir() -> Path:
    base = os.environ.get("CLONUS_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "clonus-triage")
    return Path(base)


def _knowledge_hash(path: Path) -> str:
    h = hashlib.sha256(f"index-v{_INDEX_VERSION}".encode())
    for p in (path, KNOWLEDGE_DIR / "english_words.txt", Path(__file__), Path(__file__).with_name("knowledge_base.py"),
              Path(__file__).with_name("text_utils.py")):
        h.update(p.read_bytes())
    return h.hexdigest()[:32]


def build_index(path: Optional[Path] = None, cache: bool = True) -> _Index:
    """The recogniser's tables for the knowledge file at `path`: read from the cache when the files
    they come from (the YAML, the English word list, this code) have the same hash, else compiled
    and written to the cache (CLONUS_CACHE_DIR, default ~/.cache/clonus-triage)."""
    path = Path(path or DEFAULT_PATH)
    digest = _knowledge_hash(path)
    target = _cache_dir() / f"medicines-{digest}.pickle"
    if cache:
        try:
            with target.open("rb") as handle:
                index = pickle.load(handle)  # noqa: S301 - our own cache file, in our own cache directory
            if isinstance(index, _Index):
                return index
        except FileNotFoundError:
            pass
        except Exception as exc:  # noqa: BLE001 - a broken cache file is rebuilt, never fatal
            log.warning("medicine index cache unreadable (%s); rebuilding", type(exc).__name__)
    index = _compile_index(load_knowledge(path))
    if cache:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as handle:
                pickle.dump(index, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
            _prune(target)
        except OSError as exc:
            log.warning("medicine index cache not written (%s)", type(exc).__name__)
    return index


#: Cache files of other knowledge versions are removed when older than this (other checkouts on
#: the same machine may still be using the recent ones).
_CACHE_KEEP_SECONDS = 24 * 3600


def _prune(keep: Path) -> None:
    import time

    for old in keep.parent.glob("medicines-*.pickle"):
        if old != keep and time.time() - old.stat().st_mtime > _CACHE_KEEP_SECONDS:
            old.unlink(missing_ok=True)


class _Recogniser:
    """Token lookup of every alias (longest match first) plus fuzzy matching of misspellings."""

    def __init__(self, index: _Index) -> None:
        self.kb = index.kb
        self.phrases = index.phrases
        self.longest = index.longest
        self.fuzzy = index.fuzzy
        self.english = index.english
        self.alias_keys = index.alias_keys
        self.sound_alike = index.sound_alike

    # -------------------------------------------------------------------------------- matching
    def _fuzzy(self, token: str) -> Optional[str]:
        """The one medicine a misspelled token stands for, or None (no match, or two medicines)."""
        found = self._fuzzy_edit(token)
        if found is None:
            names = {name for alias, name in self.sound_alike.get(token[0], ()) if _sounds_alike(token, alias)}
            found = next(iter(names)) if len(names) == 1 else None
        return found

    def _fuzzy_edit(self, token: str) -> Optional[str]:
        limit = 1 if len(token) <= 8 else 2  # two edits only in long names: "tramexil" is not "tramedol"
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

    def _matches(self, doc: Doc, low: List[str]) -> List[Tuple[int, int, str, str]]:
        out = []
        n = len(low)
        for i in range(n):
            for length in range(min(self.longest, n - i), 0, -1):
                for name, alias in self.phrases.get(tuple(low[i:i + length]), ()):
                    out.append((i, i + length, name, alias))
        return out

    def analyse(self, text: str, patient: Optional[str] = None) -> Recognition:
        text = clean(text)
        if not text.strip():
            return Recognition([], [])
        doc = Doc(text)
        low = [t.lower_ for t in doc]
        spans: List[Tuple[int, int, str, bool]] = []  # token start, token end, medicine, fuzzy
        matches = self._matches(doc, low)
        plain = {start for start, _, name, alias in matches if _alias_key(alias) not in self.kb.medicines[name].context_only}
        for start, end, name, alias in matches:
            med = self.kb.medicines[name]
            surface = doc[start:end].text
            if med.exact_case and alias in med.exact_case and surface.replace(" ", "") != alias.replace(" ", "") and not (
                    "-" in surface and surface.lower() == alias.lower()):
                continue  # "same" is a word, "SAMe" the supplement; hyphenated ("sam-e", "Sam-E") only the supplement
            if _alias_key(alias) in med.context_only and not (
                    _drug_context(doc, low, start, end) or _listed_before(low, start, end, plain)):
                continue
            if (end - start == 1 and med.source == VOCABULARY_SOURCE and low[start] in english_words()
                    and _body_or_condition(low, start, end)):
                continue  # "ulvaxa for my thyroid": the gland, not the medicine Thyroid (a vocabulary name)
            spans.append((start, end, name, False))
        spans = _longest_first(spans)
        taken = {i for s, e, _, _ in spans for i in range(s, e)}
        unrecognised: List[str] = []
        for i, tok in enumerate(doc):
            if i in taken or not tok.is_alpha or len(tok.text) < 4:
                continue
            word = low[i]
            if word in self.alias_keys or word in self.english:
                continue
            if len(word) >= 5:
                name = self._fuzzy(word)
                if name is not None:
                    spans.append((i, i + 1, name, True))
                    taken.add(i)
                    continue
            strength = i + 1 < len(low) and low[i + 1] in _STRENGTH_WORDS
            if strength or _looks_like_medicine(doc, low, i, spans, frozenset(u.lower() for u in unrecognised)):
                # a product's strength is part of its name: "Dolex Forte" is said back whole
                said = doc[i:i + 2].text if strength else tok.text
                if said.lower() not in {u.lower() for u in unrecognised}:
                    unrecognised.append(said)
        spans.sort()
        ctx = context(text, patient)
        statuses = _statuses(doc, low, spans, ctx)
        mentions = []
        for (s, e, name, fz), st in zip(spans, statuses, strict=True):
            if st["status"] == _RETRACTED:
                continue  # "zoloft, lexapro no wait just zoloft": only what remains is said
            span = doc[s:e]
            mentions.append(
                Mention(
                    start=span.start_char, end=span.end_char, text=span.text, name=name,
                    classes=tuple(sorted(self.kb.medicines[name].classes)), fuzzy=fz, **st,
                )
            )
        return Recognition(mentions, unrecognised)


_VOWELS = frozenset("aeiouy")


def _sounds_alike(word: str, alias: str) -> bool:
    """A spelling of a name heard, not read: one vowel written for another ("seroquil" for Seroquel,
    "wellbutren" for Wellbutrin), one letter doubled or undoubled ("welbutrin"), or a silent final e
    left out ("copaxon"), the first letter kept.
    An invented name a consonant away from a foreign brand ("spasmolin", Spasmolyt) is not one."""
    if word == alias or word[0] != alias[0]:
        return False
    if len(word) >= 6 and alias == word + "e" and alias[-2] not in _VOWELS:
        return True  # the silent final e left out, as it is heard: "copaxon" for Copaxone, "xeljanz" stays itself
    if len(word) == len(alias):
        diff = [i for i in range(len(word)) if word[i] != alias[i]]
        return len(diff) == 1 and word[diff[0]] in _VOWELS and alias[diff[0]] in _VOWELS
    if abs(len(word) - len(alias)) != 1:
        return False
    short, long_ = (word, alias) if len(word) < len(alias) else (alias, word)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:] and i > 0 and long_[i] == long_[i - 1]


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
    if end < len(doc) and end - start == 1 and len(low[start]) >= 3 and _DOSE.match(doc[end].text):
        # a dose after the name: "soma 350 when my back goes out", "soma 350mg" (not "coke 2 liters")
        after = low[end + 1] if end + 1 < len(low) else ""
        if re.search(r"\d(?:mg|mgs|mcg|µg|ug|g)$", low[end]) or after in _DOSE_UNIT - {"ml"}:
            return True
        if doc[end].text.isdigit() and (not after or after in _FREQUENCY | _AFTER_DOSE):
            return True
    if nxt == "?" and _asked_alone(low, start) and end + 1 < len(low) and low[end + 1] in _ANSWER_WORDS:
        return True  # "meth?", "and molly?": a drug asked about by its name alone (answered after, bot.context)
    i = start - 1
    while i >= 0 and low[i] in _SKIP_BEFORE:
        i -= 1
    if i < 0:
        return False
    prev = low[i]
    if prev in _POSSESSIVE or low[start - 1] in _POSSESSIVE:
        return False
    if prev in _DRUG_CONTEXT:
        return not (prev in {"except", "besides"} and len(low[start]) < 3)  # "nothing except X" (a placeholder)
    # In a list of medicines: "zoloft, tramadol and molly".
    if prev in {",", "and", "or", "&", "+", "with"} and i > 0:
        j = i - 1
        if not (j >= 0 and doc[j].is_alpha and doc[j].lower_ not in {"i", "me"}):
            return False
        if _is_known(doc[j].lower_):
            return True
        # after a street name that is itself a drug here: "never used ecstasy or acid", "did molly and coke"
        return knowledge().lookup(doc[j].lower_) is not None and _drug_context(doc, low, j, j + 1)
    return False


#: After an English word that is also a medicine's name: it names a part of the body or a condition
#: ("thyroid levels", "potassium test", "estrogen problems").
_CONDITION_AFTER = frozenset("level levels test tests gland glands problem problems issue issues disease condition cancer "
                             "nodule nodules function panel count".split())


def _body_or_condition(low: List[str], start: int, end: int) -> bool:
    """A vocabulary medicine's name that is an English word, used of the body: after "for my" ("for my
    thyroid"), or before "levels", "test", "problems" ..."""
    if start > 1 and low[start - 1] in _POSSESSIVE | {"the"} and low[start - 2] in {"for", "with", "about"}:
        return True
    return end < len(low) and low[end] in _CONDITION_AFTER


def _listed_before(low: List[str], start: int, end: int, plain: set) -> bool:
    """A street name that is also a word, in a list before a medicine named plainly: "some coke here and
    there and my zoloft" (not "a coke": the drink)."""
    if len(low[start]) < 3 or start > 0 and (low[start - 1] in _POSSESSIVE | {"a", "-"}) or (
            end < len(low) and low[end] in _FOLLOW_BLOCK):
        return False  # "a coke and my zoloft", "my joints and cymbalta", "sam-e and cymbalta", "acid reflux and ..."
    for j in range(end, min(len(low), end + 7)):
        if low[j] in {".", "!", "?", ";", "but", "for", "to", "of", "in"}:
            return False  # the end of the list, or a purpose ("ice for my joints and cymbalta": an ice pack)
        if low[j] in {"and", "plus", "&", "+", ",", "with"}:
            k = j + 1
            while k < len(low) and low[k] in _POSSESSIVE | _LIST_ITEM_BEFORE:
                k += 1
            if k in plain:
                return True
    return False


def _is_known(word: str) -> bool:
    kb = knowledge()
    med = kb.lookup(word)
    return med is not None and word not in med.context_only


def _looks_like_medicine(doc: Any, low: List[str], i: int, spans: Sequence[Tuple[int, int, str, bool]],
                         unrecognised_low: frozenset = frozenset()) -> bool:
    """A word that is neither English nor a known medicine, in a place where people name medicines:
    next to a dose ("xylophrine 20mg"), after "take/started/prescribed/gave him/on", after "nothing
    except", or in a list of medicines. Such words are said back (never dropped)."""
    nxt = doc[i + 1].text if i + 1 < len(doc) else ""
    after = low[i + 2] if i + 2 < len(low) else ""
    if _DOSE.match(nxt) and (nxt[-1:].isalpha() or after in _DOSE_UNIT):
        return True  # "zelvorin 20mg", "zelvorin 20 mg"
    if nxt.lower() in _DOSE_UNIT or nxt.lower() in _MEDICINE_AFTER:
        return True
    if nxt.isdigit() and (after in _FREQUENCY or after in _MEDICINE_AFTER):
        return True  # "glucovane 500 twice daily"
    if nxt.lower() in _ROUTE_WORDS and after in _MEDICINE_AFTER:
        return True  # "zelvorin eye drops", "zelvorin nasal spray"
    if nxt == "," and i + 2 < len(doc) and doc[i + 2].text.isdigit() and i + 3 < len(low) and low[i + 3] in _MEDICINE_AFTER | _DOSE_UNIT:
        return True  # "zelvorin, 2 tabs a day"
    # Before a known name in a list: "zelvorin and tramadol", "zelvorin 5 with my metoprolol"
    # (not a condition: "for afib and ...", "has myasthenia and takes ...").
    k = i + 1
    while k < len(doc) and (_DOSE.match(doc[k].text) or low[k] in _DOSE_UNIT):
        k += 1
    condition = i > 0 and low[i - 1] in {"for", "of", "from", "has", "have", "had", "with", "got", "treat", "treats"}
    if not condition and k < len(low) and low[k] in {"and", "with", "plus", "+", "&", ","}:
        k += 1
        while k < len(low) and low[k] in _POSSESSIVE | _LIST_ITEM_BEFORE:
            k += 1
        if any(sp[0] == k and not sp[3] for sp in spans):
            return True
    if i > 0 and low[i - 1] in {"called", "named"}:
        return True  # "a biologic called vartexa"
    after_text = " ".join(low[i + 1:i + 9])
    if _UNSURE_OR_SOURCED.match(after_text):
        return True  # "xorvane? xorvain? something like that", "pelmarix from a pharmacy abroad"
    if i > 0 and _DOSE.match(doc[i - 1].text) and doc[i - 1].text[-1:].isalpha() and doc[i - 1].text[:1].isdigit():
        return True  # "20mg zelvorin"
    j = i - 1
    while j >= 0 and (low[j] in _BEFORE_NAME or (low[j] in RELATION_WORDS and j > 0 and low[j - 1] in _POSSESSIVE)):
        j -= 1  # "my new", "gave my mom", "gave him"
    prev = low[j] if j >= 0 else ""
    capital = doc[i].text[:1].isupper() and i > 0 and doc[i - 1].text not in {".", "!", "?"}
    drug_like = bool(_DRUGLIKE_ENDING.search(low[i]))
    if prev in _UNRECOGNISED_CONTEXT or prev in _CHANGE_VERBS:
        return True
    if _named_as_medicine(doc, low, i, j):
        return True
    if prev in {"on", "onto", "off"}:
        # "I'm on holiday" is English (and never reaches here); "been on serocalm", "she's on Ocrevus" look like names.
        return drug_like or capital or len(low[i]) >= 5
    if prev in {"except", "besides", "only", "just"} and (drug_like or capital or j > 0 and low[j - 1] in {"nothing", "anything"}):
        return True  # "nothing except zelvorin"
    if prev in {",", "and", "or", "+", "&", "/", "with", "plus"}:
        # In a list of medicines: right after a known name, or an unknown one said back ("zelvorin and Ocrevus").
        k = j - 1
        while k >= 0 and (_DOSE.match(doc[k].text) or low[k] in _DOSE_UNIT):
            k -= 1  # "zelvorin 20mg and Ocrevus"
        after_med = any(e == k + 1 for _, e, _, _ in spans) or (k >= 0 and low[k] in unrecognised_low)
        return after_med or (drug_like and capital)
    return False


#: After an unknown word: a spelling the person is unsure of ("xorvane? xorvain? something like that",
#: "pelmarix or something", "I think") or where the medicine came from ("from a clinic in ...").
_UNSURE_OR_SOURCED = re.compile(
    r"(?:[?,]\s*)?(?:[a-z]+\s*\?\s*)*(?:something like (?:that|this)|or something|or whatever|i think (?:its|it is|thats)? ?(?:spelled|called)?|"
    r"not sure (?:of |about |how to spell|how its spelled)|sp \?|spelling)\b"
    r"|from (?:a|the|my|his|her|some|an) (?:\w+ )?(?:clinic|pharmacy|doctor|dr|dentist|hospital|chemist|website|online (?:pharmacy|shop|store)|"
    r"compounding pharmacy|naturopath|herbalist|supplement store|health (?:food )?store)\b"
)
#: Words after a product's name that give its strength or form ("Dolex Forte", "Tafirol Max"): an
#: unknown word before one is a medicine's name.
_STRENGTH_WORDS = frozenset("forte fuerte max ultra duo compuesto compositum".split())
#: Words between a list's "and"/"plus" and the next name ("plus an occasional maxalt", "and the odd tylenol").
_LIST_ITEM_BEFORE = frozenset("the some a an occasional odd daily nightly extra prn rare".split())
_ABBREVIATIONS = frozenset("st dr mr mrs ms vs jr sr no approx".split())


#: Verbs people use of a medicine they stop, miss, change or mix ("stopped vandoril", "upped my
#: dextavia", "missed my zelmora", "tomo vandoril", "me recetaron lumrexa").
_CHANGE_VERBS = frozenset(
    "stopped stop stopping quit quitting missed miss missing skipped skip skipping upped increased decreased lowered "
    "reduced doubled halved raised refilled refill mixing mix mixed combine combining combined restarted "
    "tomo toma tomaba tome tomé recetaron receto recetó recetaron empece empecé deje dejé uso".split())
#: Nouns after which "of"/"for" names a medicine ("a dose of zelmora", "a prescription for xelpharin").
_MEDICINE_NOUN = frozenset("dose doses prescription prescriptions script scripts refill refills bottle course pack "
                           "supply box tablet tablets pill pills mg sample samples generic".split())
#: After a name: a release form ("travinex xr"), a frequency ("zelmora twice a day").
_RELEASE_FORM = frozenset("xr er xl sr cr odt hcl".split())  # not "la": Spanish
_FREQUENCY_AFTER = frozenset("daily nightly twice bid tid qid qhs prn".split())
#: What a medicine does to the person ("lumrexa makes me dizzy", "xelpharin helps with the pain").
_EFFECT_AFTER = re.compile(r"^(?:makes?|made|gives?|gave|keeps?|causes?|caused) (?:me|him|her|them)\b"
                           r"|^(?:helps?|helped|works?|worked|interacts?|interacted|is (?:safe|ok|okay|serotonergic|an? "
                           r"(?:ssri|snri|maoi|antidepressant|opioid|med|medicine|medication|drug|pill|benzo)))\b"
                           r"|^for (?:my|his|her|their|the)\b")


#: When a medicine is taken, after its name: "at night", "in the morning", "every 6 hours", "2x a day".
_SCHEDULE_AFTER = re.compile(r"^(?:at (?:night|bedtime|breakfast|dinner)|in the (?:morning|evening|am|pm)|every (?:\d+|one|two|"
                             r"three|four|six|eight|twelve|few|other|morning|night|day|week|month)|each (?:morning|night|day)|"
                             r"\d+ ?x (?:a|per|daily)|\d+x\b|once (?:a|daily|per)|(?:shots?|injections?|infusions?) "
                             r"(?:weekly|monthly|every))")
#: A question about a medicine: "is X safe", "can X cause", "what is X", "what about X", "heard of X".
_ASKED_ABOUT_BEFORE = re.compile(r"(?:^|\b)(?:is|can|could|does|do|will|would|should|what is|whats|what about|how about|"
                                 r"heard of|ever heard of|know about|info on|information on)$")
_ASKED_ABOUT_AFTER = re.compile(r"^(?:safe|ok|okay|cause|causes|raise|raises|interact|interacts|affect|affects|make|"
                                r"makes|give|gives|an? |the same|serotonergic|dangerous|bad|[?.!,])")
#: Words that name what comes next as a medicine: "brand name X", "rx for X", "50mg of X", "the new one, X".
_NAMED_BEFORE = re.compile(r"(?:\b(?:brand name|generic|rx for|script for|refill of|\d+ ?(?:mg|mcg|ml|units?) of)|"
                           r"\b(?:new|other) (?:one|med|medicine|medication|pill|drug) ,)$")
_SWITCHED_TO_BEFORE = re.compile(r"\b(?:switched|swapped|changed|moved|switching|changing) (?:\w+ ){0,3}to$")


#: Before a word that starts a clause or an item of a list.
_CLAUSE_START = frozenset(". ! ? ; , : and also plus then y".split())
#: What a medicine is taken for or when, after a name at the start of a clause: "for <what>",
#: "when <it happens>", Spanish "para ...", "cuando ...".
_USE_AFTER = re.compile(r"^(?:for (?!(?:a|an|the|me|you|him|her|us|them|it|that|this|now|sure|real|example|instance|ever|"
                        r"once|good|some|long|hours|days|weeks|months|years|\d+)\b)[a-z]{3,}|when (?:i|my|its|it|needed|"
                        r"bad|the|he|she)\b|para (?:el|la|los|las|mi|mis|dormir|\w+)|cuando\b)")


def _named_as_medicine(doc: Any, low: List[str], i: int, j: int) -> bool:
    """Cues of a medicine around an unknown word, beyond its verb: the noun before it ("a dose of",
    "a prescription for", "ran out of", "switched to"), a release form or frequency after it, or what it
    does to the person ("makes me", "helps with", "interacts with", "for my sugar")."""
    prev = low[j] if j >= 0 else ""
    before = low[j - 1] if j > 0 else ""
    if prev in {"of", "for"} and before in _MEDICINE_NOUN | {"out"}:
        return True
    if prev == "to" and before in _SWITCH | {"switch", "change", "me", "him", "her"} and (
            before in _SWITCH or (j > 1 and low[j - 2] in _SWITCH | {"switch", "change"})):
        return True  # "switched to travinex", "switched me to travinex"
    nxt = low[i + 1] if i + 1 < len(low) else ""
    if nxt in _RELEASE_FORM or nxt in _FREQUENCY_AFTER:
        return True
    rest = " ".join(low[i + 1:i + 7])
    lead = " ".join(low[max(0, i - 4):i])
    if _SCHEDULE_AFTER.match(rest) or _ASKED_ABOUT_BEFORE.search(lead) and (
            not rest or _ASKED_ABOUT_AFTER.match(rest)):
        return True
    if _NAMED_BEFORE.search(lead) or _SWITCHED_TO_BEFORE.search(lead):
        return True
    if nxt.isdigit() and (doc[i].text[:1].isupper() or _DRUGLIKE_ENDING.search(low[i])) and (i + 2 >= len(low) or low[i + 2] in {".", ",", "!", "?", ";", "and", "at", "in", "every", "plus",
                                                             "with", "daily", "twice", "once"}):
        return True  # "QUORVANE 10", "zelvorin 20 and lexapro": a dose without its unit (not "lkjlkj 8888")
    if (i == 0 or low[i - 1] in _CLAUSE_START) and _USE_AFTER.match(rest):
        return True  # "vertrozin for dizziness", "kelomar for migraines", "novalgina cuando tengo fiebre"
    if _EFFECT_AFTER.match(rest):
        # at the start of a clause, or after a verb of taking: the word is the subject ("quorblin for my
        # sugar", "lumrexa makes me dizzy"), not a name of a person inside a sentence
        return i == 0 or low[i - 1] in {".", "!", "?", ",", ";", "and", "but", "the", "my", "his", "her", "does", "did",
                                         "do", "if", "is", "whether", "also"} or doc[i].text[:1].isupper()
    return False


def _clauses(low: List[str], doc: Any) -> List[int]:
    """Clause number of every token: sentences, ';', 'but', 'however' ... start a new clause."""
    ids = []
    clause = 0
    for i, word in enumerate(low):
        if word == "." and 0 < i < len(low) - 1 and low[i - 1] in _ABBREVIATIONS and doc[i + 1].is_alpha:
            ids.append(clause)  # "st. john's wort", "dr. smith": an abbreviation, not the end of a sentence
            continue
        if word in _CLAUSE_BREAK or "\n" in doc[i].text:
            clause += 1
            ids.append(clause)
            clause += 1
            continue
        ids.append(clause)
    return ids


def _statuses(doc: Any, low: List[str], spans: Sequence[Tuple[int, int, str, bool]], ctx: Context) -> List[Dict[str, Any]]:
    """Status of each mention (current / past / negated / hypothetical / other), with stop and start
    times where given. Negation, hypothetical, historical and another person's come from bot.context
    (the same reading the symptom features get); what is specific to medicines is read here: stop
    and start events ("stopped", "ran out", "switched from ... to", "dose went up", "started")."""
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
            status = state
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
        if word in _NEG_WORDS:
            # A missed dose is a stop event, not a denial: "haven't taken my baclofen for 2 days".
            verb = next((j for j in range(i + 1, min(i + 4, n)) if low[j] in _TAKE_VERBS), None)
            if verb is not None:
                aux = word[:-2] if word in {"havent", "hasnt", "hadnt", "didnt"} else (low[i - 1] if i > 0 else "")
                if aux in _MISSED_AUX and low[verb] in _MISSED_VERBS and _missed(low, verb, n, clause_of):
                    state, stop_event = "past", True
                    i = verb + 1
                    continue
        if word in _PAST_WORDS and not (word == "off" and i > 0 and low[i - 1] in {"turned", "wore", "wears", "wearing", "wear", "showed"}):
            state, stop_event = _PAST_WORDS[word]
            if stop_event and i + 1 < n and low[i + 1] in _TAKE_VERBS:
                i = _skip_verbs(low, i + 1, n)  # "stopped taking her clonazepam": the verb is part of the stop
                continue
        elif word == "from" and i > 0 and switching:
            state, stop_event = "past", True
        elif word == "to" and switching:
            state, stop_event, start_cue = "current", False, True
        elif word in _CURRENT_CUES and not (word == "on" and state == "negated"):
            # "and" lists keep the state ("stopped zoloft and tramadol"); a new verb changes it.
            state, stop_event = "current", False
            start_cue = word in _START_CUES or start_cue and word in {"on", "also", "and"}
        i += 1
    _apply_context(doc, low, spans, result, clause_of, ctx)
    _intended_change(low, spans, result, clause_of)
    _added_to(low, spans, result, clause_of)
    _before_another(low, spans, result, clause_of)
    _not_done_yet(low, spans, result, clause_of)
    _stopped_working(low, spans, result, clause_of)
    _taken_after_all(low, spans, result, clause_of)
    _switched_to(low, spans, result)
    _trailing_cues(doc, low, spans, result, clause_of)
    _last_one_taken(doc, low, spans, result, clause_of)
    _whose(doc, low, spans, result, clause_of, ctx)
    _times(doc, spans, result, clause_of)
    _used_up(low, spans, result)
    _given_during(low, spans, result, clause_of)
    _starts_it_later(low, spans, result)
    _retracted(low, spans, result)
    _labelled(low, spans, result)
    return result


_OLD_TAG = frozenset("old previous past prior former before stopped discontinued ex".split())
_NOW_TAG = frozenset("now new current currently present today".split())
_VS = frozenset("vs versus".split())


#: A start of "it" said in the present with a time to come: "i start it tonight", "she begins them tomorrow",
#: "im starting it on monday" (not "started it tonight", which has happened, nor "i take it tonight", which
#: may be the usual dose).
_STARTS_IT_LATER = re.compile(
    r"^(?:(?:i|we|he|she|they|you)(?: will| ll|ll)? (?:start|starts|begin|begins|am starting|"
    r"is starting|are starting)|(?:im|hes|shes|were|theyre) (?:starting|beginning)) (?:it|them|that|those)"
    r"(?: (?:up|on))? (?:tonight|tomorrow|tmrw|later(?: today| tonight)?|this (?:evening|weekend|afternoon)|"
    r"next (?:week|month|\w+day)|on (?:\w+day|the \d+\w*)|in (?:a|one|two|three|a few|a couple(?: of)?|\d+) (?:days?|weeks?))\b"
)


def _starts_it_later(low: List[str], spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]]) -> None:
    """'the pharmacy has my nortriptyline ready, i start it tonight': the name before a start of "it" that
    is still to come is planned, not taken yet (the names before it that are taken stay so)."""
    if not spans:
        return
    for i in range(len(low)):
        if low[i] not in {"i", "we", "he", "she", "they", "you", "im", "hes", "shes", "were", "theyre"}:
            continue
        if i > 0 and low[i - 1] not in {",", ".", ";", "!", "and", "so", "but", "-"}:
            continue
        if not _STARTS_IT_LATER.match(" ".join(low[i:i + 8])):
            continue
        before = [k for k, (st, _, _, _) in enumerate(spans) if st < i]
        if before and result[before[-1]]["status"] == "current" and not any(st > i for st, _, _, _ in spans):
            result[before[-1]].update(status="hypothetical", started_recently=False, stopped=False)


_GIVEN_VERBS = frozenset("used gave given got had received injected administered put".split())
_PROCEDURES = frozenset("surgery procedure operation scan colonoscopy endoscopy c-section csection delivery biopsy "
                        "mri ct op".split())


def _given_during(low: List[str], spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]],
                  clause_of: List[int]) -> None:
    """'they used methylene blue during my surgery last week', 'got fentanyl in the procedure 5 days ago':
    a medicine given once, during a procedure days behind, is not taken now (past, not a stop)."""
    n = len(low)
    for k, (s, e, _, _) in enumerate(spans):
        if result[k]["status"] != "current":
            continue
        before = low[max(0, s - 4):s]
        if not any(w in _GIVEN_VERBS for w in before):
            continue
        after = low[e:min(n, e + 5)]
        for j, w in enumerate(after):
            if w in {"during", "for", "in", "at", "before", "after"} and j + 2 < len(after) + 1:
                rest = after[j + 1:j + 3]
                if rest and (rest[-1] in _PROCEDURES or rest[0] in _PROCEDURES) and (rest[0] in _POSSESSIVE | {"the", "a"} or rest[0] in _PROCEDURES):
                    # only when the procedure is days behind ("last week", "3 days ago"): given this morning it
                    # still acts (the more cautious reading keeps it current)
                    clause = [w for i, w in enumerate(low) if clause_of[i] == clause_of[s] and i >= e]
                    when = days_ago(" ".join(clause))
                    if when is not None and when[0] >= 2:
                        result[k].update(status="past", stopped=False, started_recently=False)
                break


def _labelled(low: List[str], spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]]) -> None:
    """Names the person labels old or new: a tag after the name ("paxil (old) zoloft (now)"), "X was my
    old med" / "X is my new one", and a list headed "old meds vs now: A and B vs C" (A and B before, C now)."""
    n = len(low)

    def set_past(k: int) -> None:
        if result[k]["status"] in {"current", "hypothetical"}:
            result[k].update(status="past", started_recently=False)

    def set_current(k: int) -> None:
        if result[k]["status"] == "past" and not result[k]["stopped"]:
            result[k].update(status="current")

    for k, (_s, e, _, _) in enumerate(spans):
        after = low[e:e + 4]
        if after[:1] == ["("] and len(after) > 2 and after[2] == ")":
            if after[1] in _OLD_TAG:
                set_past(k)
            elif after[1] in _NOW_TAG:
                set_current(k)
        elif len(after) >= 3 and after[0] in {"was", "were", "is", "are"} and after[1] in _POSSESSIVE | {"the"}:
            if after[0] in {"was", "were"} and after[2] in _OLD_TAG | {"last"}:
                set_past(k)  # "paxil was my old med"
            elif after[0] in {"is", "are"} and after[2] in _NOW_TAG:
                set_current(k)  # "zoloft is my new one"
    # "old meds vs now: paxil and buspar vs zoloft"
    for i in range(n - 2):
        if low[i] in _OLD_TAG | {"then"} and any(low[j] in _VS for j in range(i + 1, min(n, i + 4))):
            colon = next((j for j in range(i + 1, min(n, i + 8)) if low[j] in {":", "-", "="}), None)
            if colon is None or not any(low[j] in _NOW_TAG for j in range(i + 1, colon)):
                continue
            split = next((j for j in range(colon + 1, n) if low[j] in _VS or low[j] in {".", "!", "?", ";"}), n)
            if split >= n or low[split] not in _VS:
                continue
            for k, (s0, _e, _, _) in enumerate(spans):
                if colon < s0 < split:
                    set_past(k)
                elif s0 > split:
                    set_current(k)
            break


_RETRACTED = "retracted"
#: What follows the "no" of a self-correction ("sinemet? no.", "provayblue? no thats what they used"),
#: unlike "is that ok? no symptoms", where "no" denies what comes next.
_AFTER_RETRACT_NO = frozenset(". , ! ? ; wait sorry thats that its it i im just actually not never my scratch".split())
#: A self-correction that tells of past use ("no thats what they used in the OR"): past, not retracted.
_RETRACT_PAST = frozenset("used gave given had was were took before ago old".split())


#: A one-word answer to a question ("meth? no", "molly? yeah once").
_ANSWER_WORDS = frozenset("no nope nah never yes yeah yep yup ya once".split())
#: Words that may come before a name asked about on its own ("any tramadol? no", "what about coke? nope").
_ASKED_BEFORE = frozenset("any ever what about and or also how tried some you".split())


def _asked_alone(low: List[str], start: int) -> bool:
    """The name opens its clause, with at most a question word before it: "meth? no", "and coke? nah"
    (a question the person answers), not "I take ProvayBlue? no ..." (a name taken back)."""
    i = start - 1
    while i >= 0 and low[i] not in {".", "!", "?", ";"}:
        if low[i] not in _ASKED_BEFORE:
            return False
        i -= 1
    return True


def _retracted(low: List[str], spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]]) -> None:
    """Self-corrections: a name taken back right after it is said ("I take ProvayBlue? no ...",
    "zoloft, lexapro no wait just zoloft", "zoloft i mean lexapro", "..., scratch that") is not a
    medicine the person takes; when the correction says it was used before, it is past."""
    n = len(low)
    starts = {sp[0] for sp in spans}
    for k, (_s, e, _, _) in enumerate(spans):
        j = e
        if j < n and low[j] in {"?", ",", "...", "-"}:
            j += 1
        w0 = low[j] if j < n else ""
        w1 = low[j + 1] if j + 1 < n else ""
        no_at = None
        if w0 in {"no", "nope", "nah"} and (low[j - 1] == "?" and (not w1 or w1 in _AFTER_RETRACT_NO) or w1 == "wait"):
            no_at = j + 1
        elif (w0, w1) in {("wait", "no"), ("scratch", "that"), ("no", "scratch")}:
            no_at = j + 2
        elif (w0, w1) in {("i", "mean"), ("i", "meant")} and any(x in starts for x in range(j + 2, j + 4)):
            no_at = j + 2
        if no_at is None:
            continue
        if w0 in {"no", "nope", "nah"} and _asked_alone(low, _s) and not any(st > no_at for st in starts):
            # "cocaine? no never": a question answered with a denial (negated, bot.context), not a
            # retraction; with a name said instead ("buspar? no. just celexa") it is taken back
            continue
        tail = []
        for w in low[no_at:]:
            if w in {".", "!", ";", "?"} or no_at + len(tail) in starts:
                break
            tail.append(w)
        result[k].update(status="past" if any(w in _RETRACT_PAST for w in tail) else _RETRACTED,
                         stopped=False, started_recently=False)


def _apply_context(doc: Any, low: List[str], spans: Sequence[Tuple[int, int, str, bool]],
                   result: List[Dict[str, Any]], clause_of: List[int], ctx: Context) -> None:
    """The shared context reading of each name, on top of the stop/start events read above."""
    for k, (s, e, _, _) in enumerate(spans):
        span = doc[s:e]
        mods = ctx.at_original(span.start_char, span.end_char)
        r = result[k]
        possessive = s > 0 and low[s - 1] == "my"  # "with my Effexor": mine, whatever the question
        if mods.other_person and not _takes_theirs(low, s):
            r.update(status="other", stopped=False, started_recently=False)
            continue
        if mods.hypothetical and not mods.future and r["status"] == "past" and r["stopped"]:
            # "if i stopped my klonopin would i need to taper?": a stop only imagined; the person takes it now
            r.update(status="current", stopped=False, started_recently=False)
        if r["status"] == "past" and not r["stopped"] and not mods.historical:
            r["status"] = "current"  # "used to smoke ice, thats why im scared of my adderall": the context decides
        if mods.negated and not r["stopped"]:
            r.update(status="negated", started_recently=False)
            after = [low[j] for j in range(e, min(e + 8, len(low))) if clause_of[j] == clause_of[s]]
            pairs = set(zip(after, after[1:], strict=False))
            if "anymore" in after or ("any", "more") in pairs or ("no", "longer") in pairs:
                r.update(status="past", stopped=True)  # "I don't take prozac anymore"
        limit = spans[k + 1][0] if k + 1 < len(spans) else len(low)
        if r["status"] == "current" and not _on_it(low[:limit], s, e) and (
                mods.future or not possessive and (mods.hypothetical or _planned(low, s, e, clause_of))):
            # a plan for later is not taken yet, even "my" ("getting my baclofen pump put in on the 14th")
            r.update(status="hypothetical", started_recently=False)
        if r["status"] == "current" and _tried_before(low, s, e, clause_of):
            r.update(status="past", started_recently=False)  # "tried lunesta and belsomra first"
        if mods.historical and r["status"] == "current" and not mods.negated:
            lo = max(0, s - 8)
            started = any((low[j] in _STARTED or low[j] == "on" and j > 0 and low[j - 1] in _ON_START)
                          and clause_of[j] == clause_of[s] for j in range(lo, s)) or any(
                low[j] == "since" and clause_of[j] == clause_of[s] for j in range(e, min(limit, e + 6)))
            device = e < len(low) and low[e] in _DEVICE and mods.historical_by_time_only
            if not started and not device:  # "started zoloft 2 years ago" is still current
                r.update(status="past", started_recently=False)


#: The writer as the subject of a take verb whose object is someone else's medicine: "i take my
#: husbands percocet", "ive been using my moms xanax", "i took a couple of my sisters ambien".
_TAKES_THEIRS = re.compile(
    r"(?:^| )(?:i|im|ive|id)(?: \w+)?(?: been)? (?:take|takes|taking|took|taken|use|using|used|borrow\w*|steal\w*|stole|"
    r"tried|try|trying|had|have|pop|popped|popping|swallowed)(?: (?:some|one|a few|a couple|two|three|a couple|half|the rest) of)?"
    r" (?:my|our) (\w+?)s$")


def _takes_theirs(low: List[str], s: int) -> bool:
    """The name is another person's medicine that the writer takes ("i take my husbands percocet"):
    whose the prescription is does not make it that person's intake (the subject of the verb decides)."""
    m = _TAKES_THEIRS.search(" ".join(low[max(0, s - 9):s]))
    return m is not None and m.group(1) in RELATION_WORDS


#: Someone else as the subject of the words before a name ("she takes", "my wife on", "started him on").
_THIRD_PERSON = frozenset(
    "she he shes hes him her herself himself abuela abuelo esposo esposa marido mama papa madre padre hijo hija "
    "hermano hermana novio novia".split()) | RELATION_WORDS | frozenset(r + "s" for r in RELATION_WORDS)
_FIRST_PERSON = frozenset("i im ive id me my myself mine yo tomo".split())
#: The writer states what they take themselves, somewhere in the message ("i take nothing", "this is about me").
_SELF_STATED = re.compile(
    r"\b(?:i|im|ive)\s+(?:also\s+|only\s+|just\s+|currently\s+|still\s+|now\s+)?(?:take|taking|took|am on|on|use|using|"
    r"started|was prescribed|been on|been taking)\b|\bme\s+(?:on|taking)\b|\b(?:for|about)\s+me\b|\bim the patient\b"
    r"|\bi have (?!(?:a|some|another|one|two) (?:quick )?(?:q|question|questions|concern|concerns)\b|questions?\b|no\b)\w+"
    r"|\byo tomo\b|\b(?:tomo|uso)\b")


#: Giving to the writer: what follows is the writer's now ("gave me one of her xanax").
_GIVE = frozenset("gave give gives giving handed offered sold passed lent shared".split())
#: The writer's own medicine, said just before its name ("i take", "im on", "i also use").
_TAKES_SELF = re.compile(r"(?:^| )(?:i (?:also |only |just |still |now )?(?:take|use|am on|am taking)|im (?:also |still )?"
                         r"(?:on|taking|using))(?: (?:my|some|the))?$")


def _subject_before(doc: Any, low: List[str], s: int, clause_of: List[int], starts: Dict[int, int],
                    ends: Dict[int, int]) -> Optional[str]:
    """'first' / 'third' for the nearest person before a name in its clause ("she takes X", "me on X",
    "started him on X"), skipping the names and doses of a list; None when no person is said."""
    j = s - 1
    while j >= 0 and clause_of[j] == clause_of[s] and s - j <= 10:
        w = low[j]
        if j + 1 in ends and w in {",", "and", "y", "&", "+"}:
            j -= 1
            continue
        if w == ",":
            prev = j - 1
            if not (prev + 1 in ends or (prev >= 0 and (_DOSE.match(doc[prev].text) or low[prev] in _DOSE_UNIT))):
                return None  # "my mom, who has dementia, takes X": too far to tell
        if w in _FIRST_PERSON:
            return "first"
        if w in _THIRD_PERSON:
            return "third"
        j -= 1
    return None


def _whose(doc: Any, low: List[str], spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]],
           clause_of: List[int], ctx: Context) -> None:
    """Two people in one message: when the writer says what THEY take ("mom takes lithium, i take
    nothing", "wife on xanax; me on effexor", "she takes sertraline herself"), a name whose subject is
    someone else is that person's, not the patient's. Without such a statement a caregiver speaks for
    the patient ("my son is on onfi") and nothing changes here."""
    if not spans or not _SELF_STATED.search(ctx.norm):
        return
    starts = {sp[0]: k for k, sp in enumerate(spans)}
    ends = {sp[1]: k for k, sp in enumerate(spans)}
    patient = ctx.patient
    for k, (s, _, _, _) in enumerate(spans):
        if result[k]["status"] not in {"current", "past", "hypothetical"}:
            continue
        before = [low[i] for i in range(max(0, s - 8), s) if clause_of[i] == clause_of[s]]
        if _subject_before(doc, low, s, clause_of, starts, ends) != "third":
            if patient and _TAKES_SELF.search(" ".join(before[-4:])):
                # "my dad (the patient) takes tizanidine, i take fluvoxamine": the writer's own, not the patient's
                result[k].update(status="other", stopped=False, started_recently=False)
            continue
        if _takes_theirs(low, s):
            continue  # "i take my husbands percocet": the writer takes it
        if any(a in _GIVE and b == "me" for a, b in zip(before, before[1:], strict=False)):
            continue  # "my roommate gave me one of her xanax": given to the writer, who took it
        j = max(0, s - 10)
        if patient and any(same_relation(low[i].rstrip("s"), patient) for i in range(j, s)):
            continue  # the relation the person speaks for
        result[k].update(status="other", stopped=False, started_recently=False)


_NOT_YET = re.compile(r"^(?:but|though|although)(?: (?:i|we|he|she|they))?(?: still)? (?:havent|hasnt|have not|has not|didnt|did not|"
                      r"never|dont|doesnt)(?: (?:yet|actually|really|even))?(?: \w+)?(?: (?:it|them|any|one|that|those|yet))*"
                      r"(?: yet)?\s*(?:[.!?;,]|$)")


def _not_done_yet(low: List[str], spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]],
                  clause_of: List[int]) -> None:
    """'my neuro mentioned botox ... but we havent scheduled it', 'mom wanted to give him her melatonin
    but we haven't': a clause that says it has not happened makes the name just before it not taken."""
    for k, (_s, e, _, _) in enumerate(spans):
        limit = spans[k + 1][0] if k + 1 < len(spans) else len(low)
        words = low[e:limit]
        for j, w in enumerate(words):
            if w in {"but", "though", "although"}:
                if _NOT_YET.match(" ".join(words[j:j + 9])) and result[k]["status"] == "current":
                    result[k].update(status="hypothetical", started_recently=False)
                break
            if w in {".", "!", "?", ";"}:
                break


def _stopped_working(low: List[str], spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]],
                     clause_of: List[int]) -> None:
    """'bumex 1mg, the lasix stopped working': beside a medicine taken now, one that stopped working
    (or never worked) was given up."""
    if len(spans) < 2:
        return
    for k, (_s, e, _, _) in enumerate(spans):
        after = " ".join(low[e:e + 4])
        if result[k]["status"] == "current" and re.match(
                r"(?:(?:stopped|quit|never|didnt|wasnt|isnt) work\w*|(?:didnt|never) (?:help|do anything)\w*)\b", after) \
                and any(r["status"] == "current" for i, r in enumerate(result) if i != k):
            result[k].update(status="past", stopped=True, started_recently=False)


_BEFORE_EVENT = re.compile(r"^before (?:i|he|she|they|we) (?:got|was|were|started|began|switched|went|moved|had)\b")


def _before_another(low: List[str], spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]],
                    clause_of: List[int]) -> None:
    """'used st. john's wort before i got prescribed lexapro', 'took ativan before he started klonopin':
    a medicine taken before another event the person tells in the past was before, not now."""
    for k, (s, e, _, _) in enumerate(spans):
        after = " ".join(low[j] for j in range(e, min(len(low), e + 6)) if clause_of[j] == clause_of[s])
        if result[k]["status"] == "current" and _BEFORE_EVENT.match(after):
            result[k].update(status="past", started_recently=False)


_UPTAKE = re.compile(r"\b(?:took|taken|started|tried|had|used|swallowed|popped) (?:the |my |his |her |a )?(?:one|it|them|"
                     r"first (?:one|dose|pill|tablet)|a dose|a pill|a tablet|some|"
                     # a number of them: "already took two of them", "had 2 pills", "took a couple"
                     r"(?:two|three|four|both|half|a couple|a few|several|\d+)(?: (?:of (?:them|it|those|these)|pills?|tabs?|"
                     r"tablets?|doses?|capsules?))?)\b")


def _taken_after_all(low: List[str], spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]],
                     clause_of: List[int]) -> None:
    """A medicine said as planned, then taken in a later clause without its name: "my neuro wants to
    add tizanidine. picked it up today and took one already": the last planned name is current now."""
    if not spans:
        return
    named = {clause_of[s] for s, _, _, _ in spans}
    last = spans[-1][1]
    text_clauses: Dict[int, List[str]] = {}
    for j in range(last, len(low)):
        text_clauses.setdefault(clause_of[j], []).append(low[j])
    for c, words in text_clauses.items():
        if c in named and c == clause_of[spans[-1][0]] and not any(w in {"and", ",", "so", "then"} for w in words):
            continue
        said = " ".join(words)
        if _UPTAKE.search(said) and not any(w in _NEG_WORDS or w in {"never", "yet", "no"} for w in words):
            # the uptake points back to the last name asked about or planned ("can i take ibuprofen with my
            # lexapro? took a couple already": the ibuprofen), not to one taken anyway
            asked = [k for k in range(len(spans)) if result[k]["status"] == "hypothetical"]
            if asked:
                result[asked[-1]].update(status="current", started_recently=True)
            return


def _tried_before(low: List[str], s: int, e: int, clause_of: List[int]) -> bool:
    """'tried vesicare before', 'tried lunesta and belsomra first': tried in the past, not taken now."""
    c = clause_of[s]
    before = [low[j] for j in range(max(0, s - 6), s) if clause_of[j] == c]
    after = [low[j] for j in range(e, min(len(low), e + 8)) if clause_of[j] == c]
    return "tried" in before and any(w in {"before", "first", "previously", "once", "already"} for w in after)


#: Words before a name dated in the past that say it was started then and goes on ("started zoloft 2
#: years ago"); "gave me linezolid 2 months ago" is a course given then, not a start that goes on.
_STARTED = (_START_CUES - {"gave", "given"}) | {"since", "been", "switched", "changed", "moved", "swapped"}
#: A medicine delivered by a device keeps being given after the device was filled or put in
#: ("baclofen pump was refilled 3 wks ago").
_DEVICE = frozenset("pump pumps patch patches implant port ring iud".split())
_ON_START = frozenset("me him her them us been started put im am is are".split())  # "put me on X last month"


_KEEP = {("stick", "with"), ("stay", "on"), ("keep", "taking"), ("continue", "taking"), ("still", "on"),
         ("still", "taking"), ("staying", "on"), ("sticking", "with")}


#: Before "taking X" in a question or plan, not a fact: "would taking st johns wort ...", "considering taking".
_ASKED_TAKING = frozenset("would will is could can start starting try trying consider considering".split())
_THINKING = frozenset("thinking think thought planning plan".split())
_MIX = frozenset("mix mixing mixed combine combining combined take taking".split())
_MIXED_THING = frozenset("stuff things something anything drugs it that this alcohol booze weed".split())
_OK_WITH = frozenset("ok okay safe fine bad dangerous alright risky".split())


def _on_it(low: List[str], s: int, e: int = -1) -> bool:
    """'... if I took molly while on lexapro', '... with the percocet i already have', '... or stick
    with baclofen': being on a medicine is a fact even in a question."""
    if s > 0 and low[s - 1] in {"on", "taking", "still", "currently", "already"} and not (
            s > 1 and low[s - 2] in {"me", "him", "her", "start", "put"} or s > 1 and low[s - 1] == "taking"
            and (low[s - 2] in _ASKED_TAKING or s > 2 and low[s - 2] in {"of", "about"} and low[s - 3] in _THINKING)):
        return True
    if s > 1 and (low[s - 2], low[s - 1]) in _KEEP:
        return True
    if s > 2 and low[s - 1] == "with" and low[s - 2] in _MIXED_THING and low[s - 3] in _MIX:
        return True  # "is it bad to mix stuff with zoloft": zoloft is what the person takes
    if s > 1 and low[s - 1] == "with" and low[s - 2] in _OK_WITH:
        return True  # "if the dentist gives me tramadol, is that ok with cymbalta?": what the person is on
    after = low[e:e + 5] if e >= 0 else []
    stop = next((i for i, w in enumerate(after) if w in {",", ";"}), None)
    if stop is not None:
        after = after[:stop]  # "..., i take tizanidine" is the next statement, not "the X i already have"
    if after[:1] and after[0] in {"taper", "tapering", "wean", "weaning"}:
        return True  # "i'll begin the prozac taper on sunday": a taper is of a medicine taken now
    return "already" in after or any(a in {"i", "he", "she", "we"} and b in {"have", "has", "take", "takes", "use", "got"}
                                     for a, b in zip(after, after[1:], strict=False))


_FUTURE = frozenset("tomorrow tonight later soon".split())


_SUBJECTS = frozenset("i im ive id we he hes she shes they theyre".split())


def _planned(low: List[str], s: int, e: int, clause_of: List[int]) -> bool:
    """'going to an ayahuasca retreat next month': a medicine planned for later, not taken now."""
    clause = [j for j in range(len(low)) if clause_of[j] == clause_of[s]]
    # a new subject after a comma starts another statement: "they'll put me on linezolid tomorrow, i take
    # fluoxetine" (the plan is not of the fluoxetine)
    cut = [j for j in clause if low[j] in {",", "and", "-"} and j + 1 < len(low) and low[j + 1] in _SUBJECTS]
    lo = max([j for j in cut if j < s], default=-1)
    hi = min([j for j in cut if j > s], default=len(low))
    clause = [j for j in clause if lo < j < hi]
    words = [low[j] for j in clause]
    before = [low[j] for j in clause if j < s]
    later = any(w in _FUTURE for w in words) or any(a == "next" and b in {"week", "month", "year", "weekend", "time"}
                                                     for a, b in zip(words, words[1:], strict=False))
    going = any(w in {"will", "gonna", "planning", "plan"} for w in before) or any(
        a == "going" and b == "to" for a, b in zip(before, before[1:], strict=False))
    return later and going


_SWITCH = frozenset("switched swapped changed moved switching swapping changing".split())

#: A change of medicine said as an intention, not an event: the verb that governs "to stop" / "to start"
#: ("plan is to stop", "wants me to start", "going to come off", "need to quit"), and modals before the
#: bare verb ("will stop", "should i stop"). Not "had to stop", "decided to start": those happened.
_INTEND = frozenset("plan plans planned planning want wants wanted wanting wanna going gonna need needs hoping hope "
                    "hopes trying try tries about supposed like love thinking considering aim aiming intend intends "
                    "intending scheduled due expecting expect ready".split())
_MODAL = frozenset("will ill gonna wanna should shall might may could would can lets".split())
_STOP_VERB = frozenset("stop stopping quit quitting discontinue discontinuing come coming get getting taper tapering "
                       "wean weaning".split())
#: Verbs that stop a medicine only with "off" ("come off", "get off", "taper off"; "get tramadol" is a start).
_STOP_WITH_OFF = frozenset("come coming get getting taper tapering wean weaning".split())
_BEGIN_VERB = frozenset("start starting begin beginning try trying add adding switch switching go going".split())


#: Taking or mixing one thing with another: "take advil with baclofen", "mix tramadol with sertraline".
_COMBINE_VERB = frozenset("take taking mix mixing combine combining use using have having drink drinking try trying "
                          "add adding".split())


def _added_to(low: List[str], spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]],
              clause_of: List[int]) -> None:
    """'is it ok to take advil with baclofen', 'is it safe to mix ibuprofen with sertraline': in a question
    whether one medicine is safe taken with another, the one asked about is not taken, and the one it is
    taken WITH is what the person is on (the same reading as "is that ok with cymbalta", bot.medications._on_it)."""
    for k in range(1, len(spans)):
        s, prev_s, prev_e = spans[k][0], spans[k - 1][0], spans[k - 1][1]
        if clause_of[s] != clause_of[prev_s] or result[k]["status"] != "hypothetical" or result[k - 1]["status"] != "hypothetical":
            continue
        between = low[prev_e:s]
        if not between or between[-1] not in {"with", "alongside"} or len(between) > 3 or not all(
                w in {"with", "alongside", "together", "and", "along"} or _DOSE.match(w) for w in between):
            continue
        lo = max(0, prev_s - 3)
        if any(low[j] in _COMBINE_VERB for j in range(lo, prev_s) if clause_of[j] == clause_of[s]) and any(
                low[j] in _OK_WITH for j in range(max(0, lo - 4), prev_s) if clause_of[j] == clause_of[s]):
            # only where the safety of the one is asked ("is it ok to take A with B" presupposes B); "can i
            # take tramadol with zoloft?" stays a question about both (tests/unit/test_context.py)
            result[k].update(status="current", started_recently=False)


#: Words between a verb of change and its object: "stop taking my zoloft", "start him on the prozac".
_VERB_TO_NAME = frozenset("on off of taking using me him her them us the my his her their some a an with to".split())


def _intended(low: List[str], v: int, clause_start: int) -> bool:
    """Is the verb at v said as an intention ("plan is to stop", "wants me to start", "will stop")?"""
    j = v - 1
    if j >= clause_start and low[j] in _MODAL:
        return True
    if j >= clause_start and low[j] in {"i", "we", "he", "she", "they"} and j - 1 >= clause_start and low[j - 1] in _MODAL:
        return True  # "should i stop"
    if j < clause_start or low[j] != "to":
        return False
    j -= 1
    if j >= clause_start and low[j] in {"me", "him", "her", "us", "them", "you"}:
        j -= 1  # "wants me to start"
    if j >= clause_start and low[j] in {"is", "was", "s"} and j - 1 >= clause_start and low[j - 1] in _INTEND:
        return True  # "the plan is to stop"
    return j >= clause_start and low[j] in _INTEND


def _intended_change(low: List[str], spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]],
                     clause_of: List[int]) -> None:
    """'the plan is to stop zoloft and start nardil', 'my doctor wants me to come off lexapro': a stop
    only intended has not happened (the medicine is still taken), and a start only intended has not
    either (planned, not taken), whatever the words of the intention."""
    for k, (s, _e, _, _) in enumerate(spans):
        c = clause_of[s]
        cs = s
        while cs > 0 and clause_of[cs - 1] == c:
            cs -= 1
        lo = max(cs, s - 5)
        verb = next((j for j in range(s - 1, lo - 1, -1) if low[j] in _STOP_VERB | _BEGIN_VERB), None)
        if verb is None or not all(low[j] in _VERB_TO_NAME for j in range(verb + 1, s)):
            continue  # the name must be the verb's object: "stop taking my zoloft", not "go on X if the zoloft ..."
        limit = spans[k + 1][0] if k + 1 < len(spans) else len(low)
        if _on_it(low[:limit], s, _e):
            continue  # "i'll begin the prozac taper": what begins is the taper of a medicine taken now
        intended = _intended(low, verb, cs)
        if not intended and verb > cs and low[verb - 1] == "and":
            # "to stop zoloft and start nardil": the second verb shares the intention of the first
            first = next((j for j in range(verb - 2, max(cs, verb - 8) - 1, -1) if low[j] in _STOP_VERB | _BEGIN_VERB), None)
            intended = first is not None and _intended(low, first, cs)
        if not intended:
            continue
        r = result[k]
        if low[verb] in _STOP_WITH_OFF and not (verb + 1 < len(low) and low[verb + 1] == "off"):
            continue
        if low[verb] in _STOP_VERB and (r["status"] == "past" and r["stopped"] or r["status"] == "hypothetical"):
            # (a stop asked about or planned, "should i stop my tramadol", is of a medicine taken now)
            r.update(status="current", stopped=False, started_recently=False)
        elif low[verb] in _BEGIN_VERB and r["status"] == "current":
            r.update(status="hypothetical", started_recently=False)


_SENTENCE_END = frozenset(". ! ? ; \n".split(" ")) | {"\n"}
_NOT_INSTEAD = frozenset("also too plus added adding as well and_also".split())


def _switched_to(low: List[str], spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]]) -> None:
    """The old medicine in a change told in one sentence: 'maxalt didnt work so they switched me to
    relpax', 'briviact replaced keppra', 'iv vancomycin at the hospital, now oral linezolid', 'first
    avonex, then gilenya, now kesimpta'."""
    def old(k: int) -> None:
        if result[k]["status"] == "current":
            result[k].update(status="past", stopped=True, started_recently=False)

    for k in range(len(spans) - 1):
        between = low[spans[k][1]:spans[k + 1][0]]
        if result[k + 1]["status"] != "current" or any(w in _SENTENCE_END for w in between):
            continue
        lead = low[max(0, spans[k][0] - 3):spans[k][0]]
        if any(w in _SWITCH for w in between) and "to" in between and "from" not in between:
            old(k)
        elif any(w in _SWITCH for w in lead) and "from" not in lead and between in (["to"], ["for"], ["over", "to"]):
            old(k)  # "switched my cipro to amoxicillin", "swapped his baclofen for tizanidine"
        elif between and between[0] in {"replaced", "replacing"}:
            old(k + 1)  # "briviact replaced keppra"
    # "..., now X": X is what the person takes now; the names before it in the sentence were before.
    for k in range(1, len(spans)):
        s = spans[k][0]
        before = low[max(0, s - 3):s]
        after = low[spans[k][1]:spans[k][1] + 3]
        if "now" not in before or result[k]["status"] != "current":
            continue
        if before[-2:] == ["and", "now"] and before[0] != ",":
            # "neurontin three times a day and now percocet": added, not instead (the cautious reading);
            # "biaxin gave me a metal taste, erythromycin upset my stomach, and now minocycline": instead
            continue
        if any(w in _NOT_INSTEAD for w in before + after) or "currently" in before:
            continue
        j = k - 1
        while j >= 0 and not any(w in _SENTENCE_END for w in low[spans[j][1]:spans[j + 1][0]]):
            if not any(w in {"still", "also", "too"} for w in low[max(0, spans[j][0] - 2):spans[j][1] + 2]):
                old(j)
            j -= 1
    # "the flomax in our cabinet is my husbands": someone else's.
    for k, (_, e, _, _) in enumerate(spans):
        after = low[e:e + 7]
        for a, b, c in zip(after, after[1:], after[2:], strict=False):
            if a in {"is", "are", "was"} and b in {"my", "our"} and c.rstrip("s") in _RELATION_WORDS and \
                    result[k]["status"] == "current":
                result[k].update(status="other", stopped=False, started_recently=False)


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
                if not (j > e and low[j - 1] in _SINGULAR_BE):
                    # "lyrica was stopped": said of one name, not of the ones before it ("zoloft and
                    # tramadol were stopped", "stopped zoloft and tramadol" share it)
                    _apply_to_list(spans, result, k, clause_of, low=low, status="past", stopped=True)
            elif word in {"until", "till", "til", "untill", "hasta"} and result[k]["status"] == "past" and not result[k]["stopped"]:
                # "was on cymbalta until about a week ago": a stop, with its time
                result[k]["stopped"] = True
                stop_end = j + 1
                while stop_end < limit and clause_of[stop_end] == clause_of[s]:
                    stop_end += 1
                found = days_ago(doc[j + 1:stop_end].text, allow_duration=False)
                if found:
                    result[k].update(days_since_stop=found[0], _timed=True)
            elif (word in {"done", "finished", "through"} and nxt == "with" and j + 2 < n and low[j + 2] in _ANAPHORA
                  and not (j > 0 and low[j - 1] in {"not", "never", "almost", "nearly", "when", "once", "after", "til", "until"})
                  and result[k]["status"] == "current"):
                # "had norco after the surgery, done with it now": the course the name was is over
                result[k].update(status="past", stopped=True, started_recently=False)
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
        obj = low[i + 1] if i + 1 < n else ""
        obj2 = low[i + 2] if i + 2 < n else ""
        last_dose = low[i] == "last" and obj in {"dose", "pill", "pills", "tablet", "one"}  # "last dose was thursday"
        # "i was prescribed prozac in 2019 but stopped": a stop with nothing after it but its time
        bare_stop = low[i] in {"stopped", "quit"} and (obj in _BARE_STOP_AFTER or obj.isdigit()) and i > 0 and (
            low[i - 1] == "but" or i > 1 and low[i - 1] in {"i", "then"} and low[i - 2] == "but")
        if c not in mention_clauses and (low[i] in {"stopped", "quit", "ran", "run", "finished", "completed", "done"} or last_dose):
            if last_dose or bare_stop or obj in _ANAPHORA or (low[i] in {"ran", "run"} and obj == "out") or obj2 in _ANAPHORA:
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


#: What may follow a stop that names nothing: the end, or its time ("but stopped", "but quit last year").
_BARE_STOP_AFTER = frozenset(["", ".", ",", "!", "?", ";", "last", "yesterday", "recently", "in", "on", "after", "a",
                              "about", "when", "because", "cold", "abruptly", "suddenly"])


_LAST_ONE = re.compile(r"\b(?:took|had|taken|used|popped|swallowed) (?:(?:my|the|his|her) last (?:(?:dose|pill|tablet|capsule|one)s? "
                       r"of )?|the last of )(?:my |the |his |her )?$")


_SUPPLY_GONE = re.compile(r"\b(?:ran out|run out|out of|no more|none left|nothing left|havent (?:refilled|gotten|got|picked)|"
                          r"cant (?:get|afford))\b")


def _last_one_taken(doc: Any, low: List[str], spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]],
                    clause_of: List[int]) -> None:
    """'took my last klonopin 3 days ago', 'had the last of my xanax on friday': the supply ran out, a stop."""
    for k, (s, e, _, _) in enumerate(spans):
        if result[k]["status"] != "current":
            continue
        lead = " ".join(low[j] for j in range(max(0, s - 7), s) if clause_of[j] == clause_of[s])
        if not _LAST_ONE.search(lead + " "):
            continue
        end = e
        while end < len(low) and clause_of[end] == clause_of[s] and low[end] not in {"and", "but"}:
            end += 1
        found = days_ago(doc[e:end].text, allow_duration=True) if end > e else None
        rest = " ".join(low[e:])
        # "my last dose was at 8am" is the most recent one; a day or more ago, or a supply said gone, is a stop
        if not (found and found[0] >= 1 or _SUPPLY_GONE.search(rest)):
            continue
        result[k].update(status="past", stopped=True, started_recently=False)
        if found:
            result[k].update(days_since_stop=found[0], _timed=True)


#: A singular verb "be" just before a stop: the stop is said of the one name before it.
_SINGULAR_BE = frozenset("was is has been got".split())
#: What may stand between the names of a bare list ("zoloft, tramadol and xanax", "zoloft 50mg and tramadol").
_LIST_GLUE = frozenset(", and & + / or plus".split()) | _DOSE_UNIT


def _apply_to_list(spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]], k: int,
                   clause_of: List[int], low: Optional[List[str]] = None, **values: Any) -> None:
    # "zoloft and tramadol, stopped them both": earlier names in the same clause share the status,
    # when they form a bare list with it (not "gabapentin 300 twice a day and lyrica was stopped",
    # where the first name has its own words).
    for j in range(k - 1, -1, -1):
        if clause_of[spans[j][0]] != clause_of[spans[k][0]] or result[j]["status"] != "current":
            break
        if low is not None and not all(w in _LIST_GLUE or _DOSE.match(w) for w in low[spans[j][1]:spans[j + 1][0]]):
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


#: Said after a name: the supply is used up ("vicodin after the extraction, all gone now").
_USED_UP = re.compile(r"(?:^| )(?:all gone|none left|no more left|used (?:it|them) (?:all )?up|finished (?:it|them|the bottle|"
                      r"the pack))(?: now)?(?: |$)")


def _used_up(low: List[str], spans: Sequence[Tuple[int, int, str, bool]], result: List[Dict[str, Any]]) -> None:
    """A name whose supply the person says is used up ("percocet after the surgery, none left now") is past.
    (One intake days ago, "took molly last weekend", stays current: the sets disagree on it, and the
    combination rules then answer it, the more cautious reading.)"""
    n = len(low)
    for k, (_s, e, _, _) in enumerate(spans):
        limit = spans[k + 1][0] if k + 1 < len(spans) else n
        if result[k]["status"] == "current" and _USED_UP.search(" ".join(low[e:limit])):
            result[k].update(status="past", stopped=True, started_recently=False, days_since_start=None)


def _start_word_near(doc: Any, lo: int, hi: int, s: int, clause_of: List[int]) -> bool:
    return any(doc[j].lower_ in _START_CUES and clause_of[j] == clause_of[s] for j in range(lo, hi))


@lru_cache(maxsize=1)
def _recogniser() -> _Recogniser:
    return _Recogniser(build_index())


def knowledge() -> Knowledge:
    """The knowledge base of this process (validated once; read from the compiled cache when fresh)."""
    return _recogniser().kb


@lru_cache(maxsize=4096)
def _analyse_cached(text: str, patient: Optional[str]) -> Recognition:
    return _recogniser().analyse(text, patient)


_AUTO = "\0auto"


def analyse(text: str, patient: Optional[str] = _AUTO) -> Recognition:
    """Every medicine mention in `text` (negated ones included) and the medicine-like words that the
    knowledge base cannot place. `patient`: the relation the person speaks for (bot.context.patient_of);
    by default read from this message alone. Errors raise (caught at the conversation boundary)."""
    text = clean(text)
    if patient == _AUTO:
        patient = patient_of([text]).key
    result = _analyse_cached(text, patient)
    return Recognition(list(result.mentions), list(result.unrecognised))


def recognise(text: str, include_negated: bool = False) -> List[Mention]:
    """Medicines named in `text`, oldest first by position, each with status "current", "past" or
    "hypothetical" ("what if I took tramadol"). Names the person says they do not take ("I don't take
    tramadol") and another person's medicines ("my sister takes prozac") are left out unless
    include_negated is set (then their status is "negated" or "other")."""
    mentions = analyse(text).mentions
    if include_negated:
        return mentions
    return [m for m in mentions if m.status not in ("negated", "other")]
