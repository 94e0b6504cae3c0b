"""Small text helpers shared by the medicine recogniser and the symptom extractor (no spaCy here)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import FrozenSet, List, Optional, Tuple

KNOWLEDGE_DIR = Path(__file__).resolve().parent / "knowledge"

# Characters replaced one-for-one, so that every character offset in the cleaned text is also an
# offset in the person's original text (the Rasa NLU component emits entities from these offsets).
_SAME_LENGTH = {
    ord("\u2019"): "'",
    ord("\u2018"): "'",
    ord("\u02bc"): "'",
    ord("`"): "'",
    ord("\u201c"): '"',
    ord("\u201d"): '"',
    ord("\u2013"): "-",
    ord("\u2014"): "-",
    ord("\u00a0"): " ",
}
for _code in list(range(0, 32)) + [127]:
    _SAME_LENGTH[_code] = "\n" if _code in (10, 13) else " "

#: Longest text one message is analysed on; beyond this a message is read only in part. 20k
#: characters is several pages, far beyond what a person types, and keeps a pasted novel from
#: holding the engine up. The triage still answers (it never refuses odd input).
MAX_CHARS = 20_000


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: object) -> str:
    """The message as text with offsets kept: curly quotes and dashes made plain, control characters
    made spaces, and cut to MAX_CHARS. Anything that is not a string becomes one."""
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    text = text[:MAX_CHARS]
    # Lone surrogates (from broken UTF-16) would make later encoding fail; replace them in place.
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("?", text)
    text = text.translate(_SAME_LENGTH)
    if _WIDE.search(text):
        text = _WIDE.sub(_narrow, text)
    if _LEET.search(text):
        text = _LEET.sub(_unleet, text)
    return text


# Full-width and other compatibility forms of letters and digits ("ｓｅｉｚｕｒｅ", "𝐤𝐢𝐥𝐥"): NFKC, one character
# for one, so offsets stay those of the person's text. Found by an outside tester (2026-12-04): full-width
# letters hid an emergency from every reader.
_WIDE = re.compile("[\uff01-\uff5e\U0001d400-\U0001d7ff\u2460-\u24ff]")


def _narrow(m: "re.Match[str]") -> str:
    import unicodedata

    out = unicodedata.normalize("NFKC", m.group(0))
    return out if len(out) == 1 else m.group(0)


# Digits written for letters inside a word ("k1ll mys3lf", "s3izure", "0verdose"): a word of letters and
# such digits that becomes an English word when the digits are read as letters is read as that word. A
# number, a dose ("10mg", "3x"), a strength ("b12") or a word that is not English either way is kept.
_LEET_MAP = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_LEET = re.compile(r"(?<![\w@$])(?=[\w@$]*[a-zA-Z][\w@$]*[a-zA-Z])(?=[\w@$]*[013457@$])[a-zA-Z013457@$]{3,}(?![\w@$])")


def _unleet(m: "re.Match[str]") -> str:
    word = m.group(0)
    if sum(c.isalpha() for c in word) < 2 or word.isalpha():
        return word
    words = english_words()
    for one in ("i", "l"):
        candidate = "".join(_LEET_MAP.get(c, c) if c != "1" else one for c in word)
        if candidate.lower() in words:
            return "".join(c if c.isalpha() else r for c, r in zip(word, candidate, strict=True))
    return word


NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "few": 3, "couple": 2, "several": 4, "some": 3,
}
_NUM = r"(\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|a\s+few|few|a\s+couple(?:\s+of)?|couple(?:\s+of)?|several|some)"
_UNIT_DAYS = {"hour": 1 / 24, "hr": 1 / 24, "day": 1, "week": 7, "wk": 7, "month": 30, "mo": 30, "year": 365, "yr": 365}
_UNIT = r"(hours?|hrs?|days?|weeks?|wks?|months?|mos?|years?|yrs?)"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def number(word: str) -> Optional[float]:
    """'3' -> 3.0, 'three' -> 3.0, 'a couple of' -> 2.0; None when it is no number."""
    word = re.sub(r"\s+", " ", word.strip().lower())
    word = re.sub(r"^a (few|couple)( of)?$", r"\1", word).replace("couple of", "couple")
    try:
        return float(word)
    except ValueError:
        value = NUMBER_WORDS.get(word)
        return float(value) if value is not None else None


def _unit_days(unit: str) -> float:
    unit = unit.lower().rstrip("s")
    return float(_UNIT_DAYS.get(unit, _UNIT_DAYS.get(unit[:2], 1)))


# "2 weeks ago", "a few days ago", "2wks ago", "three days back"
_AGO = re.compile(rf"\b{_NUM}\s*{_UNIT}\s+(?:ago|back|before)\b", re.I)
_YEARS_AGO = re.compile(r"\b(?:years|months|ages|decades)\s+ago\b|\ba\s+long\s+time\s+ago\b", re.I)
_RELATIVE = [
    (re.compile(r"\b(?:just\s+now|this\s+morning|this\s+afternoon|this\s+evening|today|tonight|an?\s+hour\s+ago)\b", re.I), 0.0),
    (re.compile(r"\b(?:yesterday|last\s*night)\b", re.I), 1.0),
    (re.compile(r"\b(?:the\s+)?day\s+before\s+yesterday\b", re.I), 2.0),
    (re.compile(r"\b(?:last|this\s+past)\s+week(?:end)?\b", re.I), 7.0),
    (re.compile(r"\blast\s+month\b", re.I), 30.0),
    (re.compile(r"\blast\s+year\b", re.I), 365.0),
    # A weekday without a date ("on Monday") is within the last week; 7 days is the upper bound.
    (re.compile(r"\b(?:on|since|last)\s+(?:mon|tues|wednes|thurs|fri|satur|sun)day\b", re.I), 7.0),
    (re.compile(r"\brecently\b|\bjust\s+(?:started|stopped|quit|began|added|ran\s+out)\b", re.I), 3.0),
]
# "for 2 days" (after "haven't taken my baclofen") counts as time since stopping
_FOR = re.compile(rf"\b(?:for|in)\s+(?:the\s+(?:last|past)\s+)?{_NUM}\s*{_UNIT}\b", re.I)
_YEAR_NUMBER = re.compile(r"\b(?:in|since|from|back\s+in)\s+((?:19|20)\d\d)\b", re.I)


_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                "november", "december")
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|march|april|may|june|july|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_IN_MONTH = re.compile(rf"\b(?:back )?(?:in|since|during|around|end of|start of|beginning of) {_MONTH}\b", re.I)
_NOW_MONTH = re.compile(rf"\b(?:(?:now )?(?:its|it is|it's)|now in|we are in|were in|this is) {_MONTH}\b", re.I)


def _month_index(word: str) -> int:
    word = word.lower()
    return next(i for i, name in enumerate(_MONTH_NAMES) if name.startswith(word[:3]))


def _months_between(text: str) -> Optional[Tuple[int, int, float]]:
    """'came off prozac back in january, its april now': a month named for an event and the month the
    person says it is now give the time between (about 30 days a month); without the month of now,
    a month name alone says nothing of how long ago it was."""
    now = _NOW_MONTH.search(text)
    event = _IN_MONTH.search(text)
    if now is None or event is None:
        return None
    months = (_month_index(now.group(1)) - _month_index(event.group(1))) % 12
    return (event.start(), event.end(), 30.0 * months) if months else None


def days_ago(text: str, allow_duration: bool = False) -> Optional[Tuple[float, int, int]]:
    """The first time reference in `text` as (days ago, start, end), e.g. 'two weeks ago' -> 14.

    With allow_duration, 'for 3 days' also counts (used after "haven't taken X for 3 days")."""
    found: List[Tuple[int, int, float]] = []
    for m in _AGO.finditer(text):
        n = number(m.group(1))
        if n is not None:
            found.append((m.start(), m.end(), n * _unit_days(m.group(2))))
    for m in _YEARS_AGO.finditer(text):
        found.append((m.start(), m.end(), 730.0))
    for pattern, days in _RELATIVE:
        for m in pattern.finditer(text):
            found.append((m.start(), m.end(), days))
    for m in _YEAR_NUMBER.finditer(text):
        # "in 2015": years before now; the exact number of days does not matter beyond "long ago".
        found.append((m.start(), m.end(), 365.0 * 2))
    month = _months_between(text)
    if month is not None:
        found.append(month)
    if allow_duration:
        for m in _FOR.finditer(text):
            n = number(m.group(1))
            if n is not None:
                found.append((m.start(), m.end(), n * _unit_days(m.group(2))))
    if not found:
        return None
    start, end, days = min(found, key=lambda f: (f[0], -f[1]))
    return days, start, end


@lru_cache(maxsize=1)
def english_words() -> FrozenSet[str]:
    """Ordinary English words (lowercase). Fuzzy matching and unrecognised-name reporting skip
    these, so that "relax" never becomes Relpax and "holiday" is never an unknown medicine."""
    path = KNOWLEDGE_DIR / "english_words.txt"
    words = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line and not line.startswith("#"):
                words.add(line.strip())
    # Chat words that are not in a dictionary but are never medicine names.
    words.update(
        "lol omg im ive idk tbh btw pls plz thx ty ok okay hes shes theyre cant dont wont didnt doesnt appt appts "
        "isnt wasnt havent hasnt ur u r yeah yep nope gonna wanna gotta kinda sorta meds med doc docs "
        "hubby mom mum dad grandma grandpa bf gf pharm rx otc er ed gp np pcp neuro neurologist covid "
        "heyy hiya hii thanks asap tho thru lastnight rn thats whats theres heres wheres lets youre were "
        "theyve weve youve wouldnt couldnt shouldnt arent werent aint yall imma dunno lemme gimme kinda "
        "hows whos its id youd hed shed wed theyd ill youll hell shell theyll".split()
    )
    return frozenset(words)


@lru_cache(maxsize=1)
def non_medicine_words() -> FrozenSet[str]:
    """Words that are never medicine names: ordinary English (`english_words`), plus common Spanish
    words of patients' messages and clinical words of this domain. The recogniser skips these; the
    language identifier does not use them (Spanish words must not count as English there)."""
    return english_words() | frozenset(
        # Common Spanish words of patients' messages.
        "esposo esposa marido mujer hijo hija madre padre mama papa abuela abuelo toma tomo toman dieron "
        "ahora tengo tiene pastillas medicina medicinas dolor piernas pierna pie espasmos fiebre tomar tomando tomado "
        "empezar empece empecé dejar usar".split()
        # Clinical words of this domain that are not medicines.
        + "clonus myoclonus spasticity hyperreflexia hypertonia neurology neurologic intrathecal baclofen_pump "
        "serotonin serotonergic ssri ssris snri snris maoi maois tca tcas triptan triptans opioid opioids "
        "benzo benzos antidepressant antidepressants antibiotic antibiotics supplement supplements "
        "infusion infusions injection injections".split()
    )


def osa_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent swaps), stopping early once it
    exceeds `limit` (then limit + 1 is returned). Misspellings of drug names are mostly one or two
    dropped, doubled, swapped or substituted letters ("zolof", "tramadoll", "baclophen")."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: List[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        best = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, prev2[j - 2] + 1)
            cur[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[len(b)]


# --- a plain yes or no ----------------------------------------------------------------------------

_YES_PARTS = (
    r"yes|yess+|yeah|yea|yep|yup|ya|yah|ye|y|sure|ok|okay|okey|k|kk|correct|right|perfect|great|good|fine|"
    r"confirm|confirmed|absolutely|definitely|of course|please|pls|plz|thanks|thank you|thx|ty|"
    r"(?:that|thats|that is|its|it is|this is|all|everything|every thing) (?:is )?(?:right|correct|good|fine|perfect|ok|okay)|"
    r"looks (?:good|right|fine|great|ok|okay|correct)|all good|sounds good|book it|book that|go ahead|do it|"
    r"lets do it|please do|yes please|thats it|that works|works for me"
)
_NO_PARTS = r"no|nope|nah|n|not (?:right|correct)|wrong|incorrect|(?:that|thats|that is|its|it is) (?:not right|wrong|incorrect)"
_YES = re.compile(rf"^(?:(?:{_YES_PARTS})(?:\s+|$))+$")
_NO = re.compile(rf"^(?:(?:{_NO_PARTS})(?:\s+|$))+$")


def yes_or_no(text: object) -> Optional[bool]:
    """True for a message that only says yes ("yes, book it", "yep thats right", "ok 👍"), False for one
    that only says no ("no", "nope thats wrong"), None for anything else (a correction, a question)."""
    if not isinstance(text, str):
        return None
    words = re.sub(r"[^\w\s]", " ", text.lower().replace("'", "")).split()
    if not words:
        return None
    plain = " ".join(words) + " "
    if _YES.match(plain):
        return True
    if _NO.match(plain):
        return False
    return None
