"""Parsing and validation of booking answers: names, phone numbers, preferred times, corrections.

Answers come from chat boxes and SMS, so each parser accepts the forms people really type
("next tuesday morning", "930am thurs", "(312)555-0142") and returns None, or a problem, when it
cannot. Phone numbers are read by `phonenumbers` (Google's libphonenumber).

Why the day/time parser is written here and not taken from a library: on the phrasing table in
tests/unit/test_booking_parsers.py (81 phrasings with a fixed "now"), dateparser 1.5.0 gave the
expected time for 23 and parsedatetime 2.6 for 28 (measured 2026-12-01 with RELATIVE_BASE /
sourceTime set, future dates preferred, month/day order); they misread "november 20th at 11"
(year 2111), "the 14th at 3" (midnight, March), "12/3 at 2" and "quarter past 2 on thursday" (the
hour dropped), do not know "tusday", "thrusday", "tmrw @ 2" or "930am", read "10 sec" and
"312-555-0177" as times, and neither can take the clinic's opening hours into account to read an
hour without am/pm ("at 3" -> 15:00), which the booking form needs. Wrapping either in the
normalising and checking done here would leave it doing little, at the cost of a dependency
(dateparser's first call also takes ~2 s). The grammar below is small, table-tested and refuses
what it does not understand instead of guessing.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

import phonenumbers

from bot.settings import WEEKDAYS, Clinic
from bot.text_utils import english_words

DEFAULT_REGION = "US"

# --- names -----------------------------------------------------------------------------------

_NAME_PREFIX = re.compile(r"^\s*(?:(?:my|the)\s+name\s+is|my\s+name'?s|i\s*'?\s*a?m|it'?s|this\s+is|name\s*:?)\s+", re.I)


# "Jamie Ortiz, like i said", "Frank Moretti (same)": what people add after a name they repeat.
_NAME_TRAILER = re.compile(
    r"(?:\s*\([^)]*\)|,?\s+(?:like|as)\s+i\s+(?:said|told\s+you|mentioned)(?:\s+before)?|,?\s+(?:again|same|lol|pls|please|thanks|thx))+\s*$",
    re.I,
)


# Words of a reply to a question or an offer; an answer made only of them is not a name.
_REPLY_WORDS = frozenset(
    "yes yeah yea yep yup ya ye no nope nah ok okay k sure thing fine please pls plz thanks thank you thx hi hello hey".split()
)


def parse_name(text: str) -> Optional[str]:
    """A person's name from an answer like "Jane Doe" or "my name is jane doe", or None."""
    cleaned = _NAME_PREFIX.sub("", text or "").strip(" .!,")
    cleaned = _NAME_TRAILER.sub("", cleaned).strip(" .!,")
    if not cleaned or len(cleaned) > 80 or any(ch.isdigit() for ch in cleaned):
        return None
    if not re.fullmatch(r"[^\W\d_]+(?:[ '\-.][^\W\d_]+)*\.?", cleaned):
        return None
    if all(w.lower().strip(".'-") in _REPLY_WORDS for w in cleaned.split()):
        return None  # "yes pls", "ok sure", "no thanks": a reply to an offer, not a name
    # Title-case only names typed all in one case, so "McDonald" and "van der Berg" survive.
    if cleaned.islower() or cleaned.isupper():
        cleaned = " ".join(part.capitalize() for part in cleaned.split())
    return cleaned


# Words that appear in questions and requests but hardly ever in a person's name.
_NOT_NAME_WORDS = frozenset(
    """a an the to of is are am was be do does did can could would should will i me my you your we it this that
    what when where why how who which yes no yeah nope ok okay please thanks thank help stop cancel quit book
    appointment talk speak person human someone call want need have has not dont don't know skip sure
    clonus spasm spasms jerk jerking jerks leg legs foot ankle pain doctor nurse clinic""".split()
)


def looks_like_name(text: str) -> bool:
    """True when an answer is plainly a name, whatever intent the classifier gave it."""
    name = parse_name(text)
    if not name or "?" in text:
        return False
    words = [w.lower().strip(".'-") for w in name.split()]
    return 1 <= len(words) <= 5 and not any(w in _NOT_NAME_WORDS for w in words)


# --- phone numbers ---------------------------------------------------------------------------


def normalise_phone(text: str, region: str = DEFAULT_REGION) -> Optional[str]:
    """The phone number the person means, in E.164 ("+13125550142"), or None.

    When a message holds several valid numbers, a number said with "not" before it is passed over
    ("it's 312 555 0199 not 312 555 0177") and the last remaining one wins, because people correct
    themselves forward ("312 555 0100, no wait, 312 555 0177").
    """
    if not text:
        return None
    found = [
        match.number
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)
        if phonenumbers.is_valid_number(match.number)
        and not re.search(r"\b(?:not|instead\s+of)\s*$", text[max(0, match.start - 16) : match.start], re.I)
    ]
    if found:
        return phonenumbers.format_number(found[-1], phonenumbers.PhoneNumberFormat.E164)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def _phone_raw(text: str, region: str = DEFAULT_REGION) -> Optional[str]:
    """The number as typed (for the form's validator), the one `normalise_phone` would choose."""
    chosen = normalise_phone(text, region)
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
        if chosen and phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164) == chosen:
            return match.raw_string
    m = re.search(r"[+(]?\d[\d\s().\-]{5,}\d", text)
    return m.group(0) if m else None


def format_phone(e164: str) -> str:
    """A stored E.164 number in the national format people read ("(312) 555-0142")."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 1 else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, fmt)


# --- preferred day and time ------------------------------------------------------------------
#
# How it reads a message: `_normalise` makes the text regular (lower case, "@" -> "at",
# "930am" -> "9:30am", "quarter past 2" -> "2:15", SMS shorthand and misspelt day and month names
# -> the words), then extractors take the day and the clock time out of it one pattern at a time,
# blanking what they took. Whatever digits are left afterwards were not understood, and the answer
# is refused: so a phone number, "10 sec" or "lkjlkj 8888" is never read as a time.


@dataclass(frozen=True)
class TimeParse:
    when: Optional[datetime]
    problem: Optional[str] = None  # "unparsed" | "past" | "closed_day" | "closed_time"


# Parts of the day, as the hour a person most likely means.
_DAY_PARTS = {
    "first thing": time(8, 30), "early morning": time(8, 30), "mid morning": time(10, 0),
    "late morning": time(11, 0), "morning": time(9, 0), "before lunch": time(11, 0),
    "after lunch": time(13, 0), "lunchtime": time(12, 0), "lunch": time(12, 0),
    "early afternoon": time(13, 0), "late afternoon": time(16, 0), "afternoon": time(14, 0),
    "end of the day": time(16, 0), "evening": time(17, 30), "tonight": time(19, 0), "night": time(19, 0),
}
_NOON = {"noon": time(12, 0), "midday": time(12, 0), "midnight": time(0, 0)}
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_MINUTE_WORDS = {"oh five": 5, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30,
                 "forty five": 45, "forty-five": 45, "fourty five": 45, "forty": 40, "fifty": 50}

# Whole words people type for a day or a part of it, mapped to the word the extractors know.
_SHORTHAND = {
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmw": "tomorrow", "tmrow": "tomorrow", "tomoz": "tomorrow",
    "2moro": "tomorrow", "2morrow": "tomorrow", "2mrw": "tomorrow", "2morow": "tomorrow", "tomo": "tomorrow",
    "2day": "today", "tday": "today", "tdy": "today", "2nite": "tonight", "tonite": "tonight", "2night": "tonight",
    "nxt": "next", "wk": "week", "wks": "weeks", "wkend": "weekend", "aft": "afternoon", "aftn": "afternoon",
    "arvo": "afternoon", "mornin": "morning", "morn": "morning", "eve": "evening", "hrs": "hours",
    "mon": "monday", "tue": "tuesday", "tues": "tuesday", "wed": "wednesday",
    "weds": "wednesday", "thu": "thursday", "thur": "thursday", "thurs": "thursday", "thr": "thursday",
    "fri": "friday", "sat": "saturday", "sun": "sunday",
}
# Words a misspelling is matched against (same first letter, close enough by difflib's ratio).
_FUZZY_TARGETS = WEEKDAYS + (
    "tomorrow", "morning", "afternoon", "evening", "january", "february", "september", "october",
    "november", "december", "weekend",
)
_FUZZY_CUTOFF = 0.8
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")]
    )
    for m in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY_RE = "|".join(WEEKDAYS)
_AMPM = r"(?:a\.?m\.?|p\.?m\.?)(?![a-z])"
_HOUR_WORD = "|".join(_NUMBER_WORDS)


def _fix_word(word: str) -> str:
    if word in _SHORTHAND:
        return _SHORTHAND[word]
    if len(word) < 5 or word in _FUZZY_TARGETS:
        return word
    if word.endswith("s") and word[:-1] in _FUZZY_TARGETS:
        return word[:-1]  # "mondays", "mornings"
    if word in english_words():
        return word  # "sturdy", "mourning", "weakened" are words, not misspelt days
    close = difflib.get_close_matches(word, [t for t in _FUZZY_TARGETS if t[0] == word[0]], n=1, cutoff=_FUZZY_CUTOFF)
    return close[0] if close else word


def _hour_of(token: str) -> int:
    return int(token) if token.isdigit() else _NUMBER_WORDS[token]


def _normalise(text: str) -> str:
    s = " ".join(text.lower().replace("\u2013", "-").replace("\u2014", "-").split())
    s = re.sub(r"@", " at ", s)
    s = re.sub(r"\b([ap])\.m\.?", r"\1m", s)
    s = re.sub(r"\bo'?\s?clock\b", "", s)
    s = re.sub(r"(\d)\s*ish\b|\b(noon)ish\b", lambda m: m.group(1) or m.group(2), s)
    s = re.sub(r"\b[a-z0-9]*[a-z][a-z0-9]*\b", lambda m: _fix_word(m.group(0)), s)
    s = re.sub(r"\b(\d{1,2})\.(\d{2})(?=\s*[ap]m\b)", r"\1:\2", s)  # "9.30am"
    # "930am", "1030 pm", "at 930": hour and minutes written together.
    s = re.sub(r"\b(1[0-2]|0?[1-9])([0-5]\d)(?=\s*[ap]m\b)", r"\1:\2", s)
    s = re.sub(r"\b(at|around|about|by|after|before)\s+(1[0-2]|0?[1-9])([0-5]\d)\b", r"\1 \2:\3", s)
    hour = rf"(\d{{1,2}}|{_HOUR_WORD})"
    s = re.sub(rf"\b(?:a\s+)?quarter\s+(?:past|after)\s+{hour}\b", lambda m: f"{_hour_of(m.group(1))}:15", s)
    s = re.sub(rf"\bhalf\s+past\s+{hour}\b", lambda m: f"{_hour_of(m.group(1))}:30", s)
    s = re.sub(rf"\b(?:a\s+)?quarter\s+(?:to|till|til|of)\s+{hour}\b",
               lambda m: f"{(_hour_of(m.group(1)) - 1) or 12}:45", s)
    minutes = "|".join(sorted(_MINUTE_WORDS, key=len, reverse=True))
    s = re.sub(rf"\b({_HOUR_WORD})[\s-]+({minutes})\b",
               lambda m: f"{_NUMBER_WORDS[m.group(1)]}:{_MINUTE_WORDS[m.group(2)]:02d}", s)
    s = re.sub(rf"\b({_HOUR_WORD})(?=\s*(?:[ap]m\b))", lambda m: str(_NUMBER_WORDS[m.group(1)]), s)
    s = re.sub(rf"\b(at|around|about|by|after)\s+({_HOUR_WORD})\b", lambda m: f"{m.group(1)} {_NUMBER_WORDS[m.group(2)]}", s)
    s = re.sub(r"\bin the am\b", "morning", s)
    s = re.sub(r"\bin the pm\b", "afternoon", s)
    return s


@dataclass
class _Clock:
    hour: int
    minute: int = 0
    ambiguous: bool = False  # an hour from 1 to 12 without am/pm: the clinic's hours decide

    def readings(self) -> List[time]:
        if not self.ambiguous:
            return [time(self.hour, self.minute)]
        morning = time(self.hour % 12 if self.hour == 12 else self.hour, self.minute)
        if self.hour == 12:
            return [time(12, self.minute)]
        return [morning, time(self.hour + 12, self.minute)]

    def pick(self, clinic: Clinic, day: date) -> time:
        """The reading inside the clinic's hours that day, else the daytime reading (1-7 -> PM)."""
        options = self.readings()
        for option in options:
            if clinic.is_open(day.weekday(), option):
                return option
        if self.ambiguous and 1 <= self.hour <= 7:
            return options[-1]
        return options[0]


class _Reader:
    """The normalised text, from which extractors take (and blank out) what they understand."""

    def __init__(self, text: str) -> None:
        self.text = text

    def take(self, pattern: str) -> Optional[re.Match]:
        m = re.search(pattern, self.text)
        if m:
            self.text = self.text[: m.start()] + " " * (m.end() - m.start()) + self.text[m.end():]
        return m


class _Unparsed(Exception):
    """Something that looks like a clock time or a date but is none ("25:00", "the 45th")."""


def _clock_from(hour: str, minute: Optional[str], suffix: Optional[str]) -> _Clock:
    h, mi = int(hour), int(minute or 0)
    if mi > 59:
        raise _Unparsed(hour)
    suffix = (suffix or "").replace(".", "")
    if suffix:
        if not 1 <= h <= 12:
            raise _Unparsed(hour)
        if suffix.startswith("p") and h < 12:
            h += 12
        elif suffix.startswith("a") and h == 12:
            h = 0
        return _Clock(h, mi)
    if h > 23:
        raise _Unparsed(hour)
    return _Clock(h, mi, ambiguous=1 <= h <= 12)


def _take_clock(r: _Reader) -> Tuple[Optional[_Clock], Optional[time]]:
    """(clock time, part of the day) taken from the text."""
    m = r.take(rf"\b(\d{{1,2}})(?::(\d{{2}}))?\s*(?:-|to|or)\s*(\d{{1,2}})(?::(\d{{2}}))?\s*({_AMPM})?(?![\d/:])")
    if m:  # "2-3pm", "10 or 11am", "at 10 or 11": the start, with the suffix of the end
        suffix = m.group(5)
        if suffix and suffix.startswith("p") and int(m.group(1)) > int(m.group(3)):
            suffix = "am"  # "11-1pm" starts in the morning
        return _clock_from(m.group(1), m.group(2), suffix), None
    m = r.take(rf"\b(\d{{1,2}})[:.](\d{{2}})\s*({_AMPM})?(?![\d/:])") or r.take(rf"\b(\d{{1,2}})()\s*({_AMPM})")
    if m:
        return _clock_from(m.group(1), m.group(2), m.group(3)), None
    m = r.take(r"\b(?:between\s+)(\d{1,2})\s+and\s+\d{1,2}\b")
    if m:
        return _clock_from(m.group(1), None, None), None
    m = r.take(r"\b(?:at|around|about|by|after|before|from)\s+(\d{1,2})\b(?!\s*(?:/|:|st\b|nd\b|rd\b|th\b))")
    if m:
        return _clock_from(m.group(1), None, None), None
    for word, at in _NOON.items():
        if r.take(rf"\b{word}\b"):
            return _Clock(at.hour, at.minute), None
    for words in sorted(_DAY_PARTS, key=len, reverse=True):
        if r.take(rf"\b(?:in\s+the\s+)?{words}\b"):
            return None, _DAY_PARTS[words]
    return None, None


def _weekday_on_or_after(start: date, weekday: int) -> date:
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def _take_day(r: _Reader, today: date) -> Tuple[Optional[date], bool]:
    """(day, names a weekday without a date: may roll to next week when the time has gone)."""
    m = r.take(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
    if m:
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3))), False
    m = r.take(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")
    if m:  # US order: month/day
        return _month_day(today, int(m.group(1)), int(m.group(2)), m.group(3)), False
    m = r.take(rf"\b({_MONTH_RE})\.?\s+(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}})\b)?") or r.take(
        rf"\b(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\b(?:,?\s+(\d{{4}})\b)?"
    )
    if m:
        a, b = m.group(1), m.group(2)
        month, day = (_MONTHS[a], int(b)) if a in _MONTHS else (_MONTHS[b], int(a))
        return _month_day(today, month, day, m.group(3)), False
    if r.take(r"\b(?:the\s+)?day\s+after\s+tomorrow\b"):
        return today + timedelta(days=2), False
    if r.take(r"\btomorrow\b"):
        return today + timedelta(days=1), False
    if r.take(r"\b(?:yesterday|yday|last\s+night)\b"):
        return today - timedelta(days=1), False
    m = r.take(rf"\blast\s+({_WEEKDAY_RE})\b")
    if m:
        return today - timedelta(days=((today.weekday() - WEEKDAYS.index(m.group(1))) % 7) or 7), False
    if r.take(r"\b(?:today|this\s+(?=morning|afternoon|evening)|(?=tonight))"):
        return today, False
    m = r.take(r"\b(?:on\s+)?(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)\b")
    if m:  # "the 14th", "friday the 27th": the next 14th from today (the weekday is read back)
        day = int(m.group(1))
        for months_ahead in range(3):
            year, month = divmod(today.month - 1 + months_ahead, 12)
            found = _safe_date(today.year + year, month + 1, day)
            if found and found >= today:
                return found, False
        raise _Unparsed(m.group(0))
    base: Optional[date] = None
    next_week = False
    m = r.take(r"\bin\s+(\d{1,2}|a|an|one|two|three|four|five|six|a\s+couple\s+of|a\s+few)\s+(days?|weeks?)\b") or r.take(
        r"\b(a|one|two|three|\d)\s+(weeks?)\s+from\s+(?:today|now)\b"
    )
    if m:
        word = m.group(1)
        n = {"a": 1, "an": 1, "a few": 3}.get(word) or (2 if "couple" in word else None) or _NUMBER_WORDS.get(word) or int(word)
        base = today + timedelta(days=n * (7 if m.group(2).startswith("week") else 1))
    elif r.take(r"\bnext\s+week\b|\bthe\s+week\s+after\s+this\b"):
        base = today + timedelta(days=7 - (today.weekday() + 1) % 7)  # Sunday starting next week (US)
        next_week = True
    m = r.take(rf"\b(?:(this|next|coming|this\s+coming|on|on\s+a|a)\s+)?({_WEEKDAY_RE})s?\b")
    if m:
        weekday = WEEKDAYS.index(m.group(2))
        if base is not None:
            return _weekday_on_or_after(base, weekday), False
        found = _weekday_on_or_after(today, weekday)
        if found == today and (m.group(1) or "").startswith("next"):
            found += timedelta(days=7)
        return found, found == today and not (m.group(1) or "").startswith("this")
    if r.take(r"\b(?:this\s+|next\s+|on\s+the\s+|the\s+)?weekend\b"):
        return _weekday_on_or_after(base or today, 5), False
    if base is not None:
        return base + timedelta(days=1) if next_week else base, False  # "next week": its Monday
    return None, False


def _month_day(today: date, month: int, day: int, year: Optional[str]) -> Optional[date]:
    if year:
        y = int(year)
        return _safe_date(y + 2000 if y < 100 else y, month, day)
    found = _safe_date(today.year, month, day)
    if found and found < today:  # a date already gone this year means next year's
        found = _safe_date(today.year + 1, month, day)
    return found


def _safe_date(year: int, month: int, day: int) -> Optional[date]:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# Text about the past or about how long something lasts is not a booking time.
_NOT_A_BOOKING = re.compile(r"\b(?:ago|since|started|began|lasts|lasted|for\s+the\s+(?:past|last))\b")


def now_at(tz: ZoneInfo) -> datetime:
    """Now, in the clinic's timezone: the one place the booking parsers read the time of day (tests
    that must not depend on the day they run on set it)."""
    return datetime.now(tz)


def parse_preferred_time(text: str, clinic: Clinic, now: Optional[datetime] = None) -> TimeParse:
    """When the person wants to come in, from free text, checked against the clinic's hours.

    A day without a time means the morning (9:00); a time without a day means the next day on
    which the clinic is open at that time (or, if it never is, the next open day, to be refused
    as "closed_time"). An hour without am/pm takes the reading inside that day's opening hours
    ("at 3" -> 15:00, "9:30" -> 9:30), else 1-7 means PM. The result is timezone-aware, in the
    clinic's timezone. Digits the parser cannot place (a phone number, "10 sec") mean "unparsed".
    """
    tz = ZoneInfo(clinic.timezone)
    now = (now or now_at(tz)).astimezone(tz)
    normalised = _normalise(text or "")
    if not normalised or _NOT_A_BOOKING.search(normalised):
        return TimeParse(None, "unparsed")
    reader = _Reader(normalised)
    try:
        day, rolls = _take_day(reader, now.date())
        clock, part = _take_clock(reader)
        if clock is None and part is None and day is not None:
            m = reader.take(r"(?<![\d/:.-])\b(\d{1,2})\b(?![\d/:.-])")  # "friday 2", "dec 8 10"
            clock = _clock_from(m.group(1), None, None) if m else None
    except _Unparsed:
        return TimeParse(None, "unparsed")
    if re.search(r"\d", reader.text) or (day is None and clock is None and part is None):
        return TimeParse(None, "unparsed")
    if day is None:
        day, chosen = _next_open_day(clinic, now, clock, part)
    else:
        chosen = clock.pick(clinic, day) if clock else (part or _DAY_PARTS["morning"])
    when = datetime.combine(day, chosen, tz)
    if when <= now and rolls:
        # "monday" said on a Monday after the time has gone means next Monday.
        when += timedelta(days=7)
        day = when.date()
    if when <= now:
        return TimeParse(when, "past")
    if day.weekday() not in clinic.opening_hours:
        return TimeParse(when, "closed_day")
    if not clinic.is_open(day.weekday(), chosen):
        return TimeParse(when, "closed_time")
    return TimeParse(when)


def _next_open_day(clinic: Clinic, now: datetime, clock: Optional[_Clock], part: Optional[time]) -> Tuple[date, time]:
    tz = now.tzinfo
    fallback: Optional[Tuple[date, time]] = None
    for ahead in range(8):
        day = now.date() + timedelta(days=ahead)
        chosen = clock.pick(clinic, day) if clock else part or _DAY_PARTS["morning"]
        if datetime.combine(day, chosen, tz) <= now:
            continue
        if clinic.is_open(day.weekday(), chosen):
            return day, chosen
        if fallback is None and day.weekday() in clinic.opening_hours:
            fallback = (day, chosen)
    if fallback:
        return fallback
    day = now.date() + timedelta(days=1)
    return day, clock.pick(clinic, day) if clock else part or _DAY_PARTS["morning"]


def describe_time(when: datetime) -> str:
    """A time as people read it: "Tuesday, December 1 at 9:00 AM"."""
    hour = when.hour % 12 or 12
    return f"{when:%A}, {when:%B} {when.day} at {hour}:{when.minute:02d} {'AM' if when.hour < 12 else 'PM'}"


# --- corrections at the read-back ------------------------------------------------------------

#: The booking fields a correction can change: the booking form's slot names.
CORRECTABLE_FIELDS = ("patient_name", "phone_number", "preferred_time", "visit_reason")


@dataclass(frozen=True)
class Correction:
    field: str  # one of CORRECTABLE_FIELDS
    value: Optional[str]  # the new answer as typed (the form's validator checks it), or None if not given


# Words that name a field, in the order they are looked for; the earliest in the message wins.
_FIELD_WORDS = (
    ("phone_number", r"\b(?:phone(?:\s+number)?|(?:wrong\s+|my\s+|the\s+|cell\s+|mobile\s+)?number|cell|mobile|tel(?:ephone)?)\b|#"),
    ("patient_name", r"\b(?:(?:first|last|full|sur)\s*name|name|spell(?:ed|t|ing)?)\b"),
    ("preferred_time", r"\b(?:appointment\s+time|time|day|date|reschedule|move\s+it|make\s+it|change\s+it\s+to|can\s+we\s+do)\b"),
    ("visit_reason", r"\b(?:reason(?:\s+for\s+(?:the\s+)?visit)?|purpose|the\s+visit\s+is|visit\s+is|it'?s\s+for|coming\s+in\s+for)\b"),
)
# What stands between the field and its new value: "should be", "is", "it's", ":", "to" ...
_VALUE_MARKER = re.compile(
    r"(?:\b(?:should\s+(?:be|say|read)|is\s+(?:actually|really)|it\s+is|it'?s(?:\s+actually)?|its|is|are|to|as|for|about)\b|(?<!\d)[:=])\s*",
    re.I,
)
# An answer that says only that something is wrong, not what is right.
_EMPTY_VALUE = re.compile(
    r"^(?:(?:is|are|was|it'?s|its|all)\s+)?(?:wrong|incorrect|not\s+(?:right|correct|it|mine)|off|a\s+typo|misspelt|misspelled|spelled\s+wrong|mistyped|bad)\b",
    re.I,
)
_FILLER = re.compile(r"^(?:(?:no+|nope|nah|oops|sorry|wait|actually|hey|oh|um+|uh+|and|but|so|please|pls)\b|[,.!\s])+", re.I)
_TRAILER = re.compile(r"(?:[\s,.!]+(?:instead|please|pls|thanks|thank\s+you|thx|then|actually))+[\s.!]*$|[\s.!]+$", re.I)


def parse_correction(text: str, clinic: Optional[Clinic] = None, now: Optional[datetime] = None) -> Optional[Correction]:
    """Which booking field a message at the read-back corrects, and the new value typed, if any.

    "the phone is wrong, it's 312 555 0199" -> Correction("phone_number", "312 555 0199");
    "name should be Frank Moretti" -> Correction("patient_name", "Frank Moretti");
    "make it thursday at 10 instead" -> Correction("preferred_time", "thursday at 10");
    "reason: follow up after stroke" -> Correction("visit_reason", "follow up after stroke");
    "the date is wrong" -> Correction("preferred_time", None). A message that names no field and
    carries no phone number or time ("no", "yes", "hmm") gives None. The value is the person's own
    words, to go through the same validator as the form's answer (so a wrong value is answered).
    """
    raw = " ".join((text or "").split())
    if not raw:
        return None
    clinic = clinic or _default_clinic()
    hits = []
    for field, pattern in _FIELD_WORDS:
        m = re.search(pattern, raw, re.I)
        if m:
            hits.append((m.start(), field, m))
    if hits:
        _, field, m = min(hits, key=lambda h: h[0])
        return Correction(field, _value_for(field, raw, m, clinic, now))
    # No field named: a phone number or a time on its own says which field it is.
    phone = _phone_raw(raw) if normalise_phone(raw) else None
    if phone:
        return Correction("phone_number", phone)
    candidate = _without_not(_clean_value(raw) or "")
    if candidate and parse_preferred_time(candidate, clinic, now).problem != "unparsed":
        return Correction("preferred_time", candidate)
    return None


def _default_clinic() -> Clinic:
    from bot.settings import clinic

    return clinic()


def _value_for(field: str, raw: str, keyword: re.Match, clinic: Clinic, now: Optional[datetime]) -> Optional[str]:
    if field == "phone_number":
        return _phone_raw(raw) if re.search(r"\d", raw) else None
    before = raw[: keyword.start()]
    after = raw[keyword.end():]
    value = _after_marker(after)
    if value is None:
        # "Frank Moretti is my name", "thursday at 10 is better"
        m = re.match(r"^(.*?)\s+(?:is|should\s+be)\s+(?:my|the)\s*$", before, re.I)
        value = _clean_value(m.group(1)) if m else None
    if value is None and field == "preferred_time" and re.search(r"make\s+it|change\s+it\s+to|move\s+it|can\s+we\s+do|reschedule", keyword.group(0), re.I):
        value = _clean_value(after)
    if value is None:
        return None
    if field == "patient_name":
        value = _without_not(re.sub(r"^(?:spell(?:ed|t)|written)\s+", "", value, flags=re.I))
        return value if value and parse_name(value) else None
    if field == "preferred_time":
        value = _without_not(value)
        return value if value and parse_preferred_time(value, clinic, now).problem != "unparsed" else None
    return value if len(value) >= 2 else None


def _after_marker(after: str) -> Optional[str]:
    """The value after the first marker that is followed by more than "wrong"."""
    text = after
    while True:
        m = _VALUE_MARKER.search(text)
        candidate = _clean_value(text[m.end():] if m else text)
        if candidate and not _EMPTY_VALUE.match(candidate):
            return candidate
        if m is None:
            return None
        text = text[m.end():]


def _without_not(value: str) -> Optional[str]:
    """The value without what it is not: "not tuesday, wednesday" / "monday not tuesday" -> the day."""
    value = re.sub(r"^\s*not\s+[^,;]*[,;]\s*|[,;]?\s*\bnot\s+.*$", " ", value, flags=re.I).strip(" ,;")
    return value or None


def _clean_value(value: str) -> Optional[str]:
    value = _TRAILER.sub("", _FILLER.sub("", value or "")).strip(" ,.;:-")
    return value or None


# --- answers given before they are asked -----------------------------------------------------

# "name is Jamie Ortiz", "my name's jane doe", "patient: Frank Moretti", "it's for Frank Moretti"
_NAME_IN_TEXT = re.compile(
    r"\b(?:(?:my|his|her|the\s+patient'?s?|patient)\s+name\s+is|name\s+is|name'?s|name\s*:|patient\s*(?:is|:)|"
    r"(?:booking|appointment|appt|it'?s|its)\s+for|call\s+me)\s+"
    r"([^\W\d_][^\W\d_'\-]*(?:[ '\-][^\W\d_][^\W\d_'\-]*){0,2})",
    re.I,
)
# What follows a name in a sentence and is not part of it.
_AFTER_NAME = re.compile(r"\s+(?:and|but|or|like|at|on|for|next|this|tomorrow|today|my|his|her|the|phone|number|i|im|pls|please)\b.*$", re.I)
# "book in for my ankle clonus", "appointment about the botox", "visit for a follow up"
_REASON_IN_TEXT = re.compile(
    r"\b(?:book(?:\s+in)?|appointment|appt|visit|see\s+(?:a|the)\s+(?:doctor|neurologist)|come\s+in|schedule(?:\s+a\s+visit)?)"
    r"(?:\s+\w+){0,2}?\s+(?:for|about|regarding|re:?)\s+(.+?)(?=[,.;!?]|\s+(?:next|this|on|at|tomorrow|today|name|my\s+name|and\s+my|phone)\b|$)",
    re.I,
)
# "for my dad", "for next week", "for tuesday": whom or when, not why.
_NOT_A_REASON = re.compile(
    r"^(?:(?:my|his|her|our|the)\s+(?:mom|mum|mother|dad|father|son|daughter|husband|wife|partner|kid|child|grandpa|"
    r"grandma|grandmother|grandfather|brother|sister|friend|uncle|aunt|boyfriend|girlfriend|bf|gf)|me|myself|him|her|"
    r"(?:next|this)\s+\w+|tomorrow|today|an?\s+(?:appointment|appt|visit)|a\s+(?:day|time)|\w+day|someone|a\s+friend)\b",
    re.I,
)
_CLAUSE = re.compile(r"[,;.!?]+|\s+(?:and|but|also|then)\s+", re.I)
_TIME_WORDS = re.compile(
    rf"\b(?:{'|'.join(WEEKDAYS)}|mon|tue|tues|wed|thu|thur|thurs|fri|tomorrow|tmrw|today|tonight|morning|afternoon|evening|"
    rf"noon|next\s+week|\d{{1,2}}(?::\d\d)?\s*(?:am|pm|a\.m\.|p\.m\.)|{_MONTH_RE})\b",
    re.I,
)


def name_in(text: str) -> Optional[str]:
    """A full name the message gives in passing ("..., name is Jamie Ortiz"), or None."""
    for m in _NAME_IN_TEXT.finditer(text or ""):
        candidate = _AFTER_NAME.sub("", m.group(1)).strip()
        if len(candidate.split()) >= 2 and looks_like_name(candidate):
            return parse_name(candidate)
    return None


def time_in(text: str, clinic: Clinic, now: Optional[datetime] = None) -> Optional[str]:
    """The words of a message that say when the person wants to come in ("next monday 10am"), or None.

    Clause by clause, so that a time inside a longer booking request is found; a clause counts only
    when it holds a day or clock word and the parser reads it (closed or past times included: the
    form's validator answers those).
    """
    for clause in _CLAUSE.split(text or ""):
        clause = re.sub(r"\b(?:works?|is\s+(?:good|best|fine)|suits?\s+me|would\s+be\s+(?:good|great|best)|if\s+possible|pls|please)\b", " ", clause, flags=re.I)
        clause = " ".join(clause.split())
        if not clause or not _TIME_WORDS.search(clause):
            continue
        if parse_preferred_time(clause, clinic, now).problem != "unparsed":
            return clause
        # "can i book in for next monday 10am": the time after the last booking word
        m = re.search(r"\b(?:for|on|at)\s+((?:next|this)?\s*\S.*)$", clause, re.I)
        if m and parse_preferred_time(m.group(1), clinic, now).problem != "unparsed":
            return m.group(1).strip()
    return None


def reason_in(text: str) -> Optional[str]:
    """Why the person wants the visit, when a booking request says it ("book in for my ankle clonus")."""
    for m in _REASON_IN_TEXT.finditer(text or ""):
        reason = m.group(1).strip(" ,.")
        if len(reason) >= 3 and not _NOT_A_REASON.match(reason) and normalise_phone(reason) is None:
            return reason[:500]
    return None


def booking_answers(text: str, clinic: Clinic, now: Optional[datetime] = None) -> Dict[str, str]:
    """The booking form's slots that one message already answers, as typed (the form validates them)."""
    found: Dict[str, str] = {}
    phone = _phone_raw(text) if normalise_phone(text or "") else None
    if phone:
        found["phone_number"] = phone
    name = name_in(text)
    if name:
        found["patient_name"] = name
    # A question ("is my thursday appt still booked?") asks about a time; it does not choose one.
    asks = (text or "").rstrip().endswith("?")
    when = None if asks else time_in(re.sub(re.escape(phone), " ", text) if phone else text, clinic, now)
    if when:
        found["preferred_time"] = when
    reason = reason_in(text)
    if reason and (not when or when not in reason):
        found["visit_reason"] = reason
    return found


# --- a request to book, wherever it is said -----------------------------------------------------

_BOOK_OBJECT = r"(?:appointments?|appts?|apts?|visits?|consults?|consultations?|check\s*-?\s*ups?|follow\s*-?\s*ups?|slots?|time\s+to\s+come\s+in)"
_BOOK_VERB = r"(?:book|booking|schedule|scheduling|set\s*up|setup|make|get|arrange|request|need|want|wanna|like|have|grab)"
_ASKS_TO_BOOK = re.compile(
    r"\b(?:"
    rf"{_BOOK_VERB}\b(?:\s+\w+){{0,4}}?\s+{_BOOK_OBJECT}"  # "can i set up a visit", "i need an appt"
    r"|book\s+(?:me|myself|us|him|her|them|in)\b"  # "book me in"
    r"|(?:can|could|may)\s+(?:i|we)\s+book\b"  # "can i book"
    r"|(?:come|get)\s+in\s+(?:to\s+be\s+seen|for\s+a|and\s+see)"  # "can i come in for a check"
    r"|(?:see|seeing)\s+(?:a|the|your)\s+(?:doctor|dr|neurologist|specialist|neuro)\b"  # "i want to see a neurologist"
    r")",
    re.I,
)
_NOT_BOOKING = re.compile(
    r"\b(?:don'?t|do\s+not|didn'?t|not|no\s+need\s+to|never|cancel(?:l?ed|l?ing)?|already\s+(?:have|had|booked)"
    # a question whether to go ("do i need to see a doctor?", "should she get a check up")
    r"|(?:do|does|should|would|must|will)\s+(?:i|we|he|she|they|my\s+\w+)(?:\s+(?:need|have|want)\s+to)?)\b(?:\s+\w+){0,3}?\s*$",
    re.I,
)


def asks_to_book(text: str) -> bool:
    """Whether a message asks for a visit ("Hi can I set up a visit, my hand jerks..."), whatever the
    intent classifier made of it: a booking request that also reports a symptom is still a request to
    book. Not when the request is denied or about a visit already made ("i dont need an appointment",
    "i already have an appt", "cancel my appointment")."""
    for m in _ASKS_TO_BOOK.finditer(text or ""):
        before = (text or "")[max(0, m.start() - 40) : m.start()]
        if not _NOT_BOOKING.search(before) and not _NOT_BOOKING.search(before + m.group(0).split()[0]):
            return True
    return False
