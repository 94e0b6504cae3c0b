"""Parsing and validation of booking answers: names, phone numbers and preferred times.

Answers come from chat boxes and SMS, so each parser accepts the forms people really type
("next tuesday morning", "(312) 555-0142") and returns None with a reason when it cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Optional, Tuple
from zoneinfo import ZoneInfo

import phonenumbers

from bot.settings import WEEKDAYS, Clinic

DEFAULT_REGION = "US"

_WEEKDAY_ALIASES = {
    **{d: i for i, d in enumerate(WEEKDAYS)},
    **{d[:3]: i for i, d in enumerate(WEEKDAYS)},
    "tues": 1, "tue": 1, "weds": 2, "wensday": 2, "wednsday": 2, "thur": 3, "thurs": 3,
    "tuesdy": 1, "thursdy": 3, "fri": 4, "frday": 4, "munday": 0, "satuday": 5,
}
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")]
    )
    for m in names
}
# Parts of the day, as the hour a person most likely means.
_DAY_PARTS = {
    "first thing": time(8, 30), "early morning": time(8, 30), "morning": time(9, 0),
    "midday": time(12, 0), "noon": time(12, 0), "lunchtime": time(12, 0), "lunch": time(12, 0),
    "afternoon": time(14, 0), "late afternoon": time(16, 0), "evening": time(17, 30),
}
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}


# --- names -----------------------------------------------------------------------------------

_NAME_PREFIX = re.compile(r"^\s*(?:(?:my|the)\s+name\s+is|my\s+name'?s|i\s*'?\s*a?m|it'?s|this\s+is|name\s*:?)\s+", re.I)


def parse_name(text: str) -> Optional[str]:
    """A person's name from an answer like "Jane Doe" or "my name is jane doe", or None."""
    cleaned = _NAME_PREFIX.sub("", text or "").strip(" .!,")
    if not cleaned or len(cleaned) > 80 or any(ch.isdigit() for ch in cleaned):
        return None
    if not re.fullmatch(r"[^\W\d_]+(?:[ '\-.][^\W\d_]+)*\.?", cleaned):
        return None
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
    """The first valid phone number in the text, in E.164 ("+13125550142"), or None."""
    if not text:
        return None
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
        if phonenumbers.is_valid_number(match.number):
            return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def format_phone(e164: str) -> str:
    """A stored E.164 number in the national format people read ("(312) 555-0142")."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 1 else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, fmt)


# --- preferred day and time ------------------------------------------------------------------


@dataclass(frozen=True)
class TimeParse:
    when: Optional[datetime]
    problem: Optional[str] = None  # "unparsed" | "past" | "closed_day" | "closed_time"


def _parse_clock(text: str) -> Tuple[Optional[time], bool]:
    """(time, explicit) from text: "3pm", "10:30 am", "15:00", "at 4", "noon", "morning"."""
    m = re.search(r"\b(\d{1,2})(?::|\.)(\d{2})\s*(a\.?m\.?|p\.?m\.?)?(?![\d/])", text)
    if not m:
        m = re.search(r"\b(\d{1,2})\s*(a\.?m\.?|p\.?m\.?)(?!\w)", text)
        if m:
            m = re.match(r"(\d{1,2})()\s*(.*)", m.group(1) + " " + m.group(2))  # type: ignore[assignment]
    if not m:
        m = re.search(r"\b(?:at|@|around|about|by)\s+(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")(?!\s*(?:/|\d|th|st|nd|rd|days?|weeks?))\b()()", text)
    if m:
        raw_hour = m.group(1)
        hour = _NUMBER_WORDS.get(raw_hour, None) if not raw_hour.isdigit() else int(raw_hour)
        minute = int(m.group(2)) if m.group(2) else 0
        suffix = (m.group(3) or "").replace(".", "")
        if hour is None or hour > 23 or minute > 59:
            return None, False
        if suffix.startswith("p") and hour < 12:
            hour += 12
        elif suffix.startswith("a") and hour == 12:
            hour = 0
        elif not suffix and 1 <= hour <= 7:
            hour += 12  # "at 3" at a clinic means 3 in the afternoon
        return time(hour, minute), True
    for words in sorted(_DAY_PARTS, key=len, reverse=True):
        if re.search(rf"\b{words}\b", text):
            return _DAY_PARTS[words], False
    return None, False


def _parse_day(text: str, today: date) -> Optional[date]:
    if re.search(r"\b(?:day after tomorrow|day after tmrw)\b", text):
        return today + timedelta(days=2)
    if re.search(r"\b(?:tomorrow|tmrw|tmr|tomorow|tommorow|tommorrow|2morrow)\b", text):
        return today + timedelta(days=1)
    if re.search(r"\b(?:yesterday|yday|last night)\b", text):
        return today - timedelta(days=1)
    m = re.search(r"\blast\s+(" + "|".join(WEEKDAYS) + r")\b", text)
    if m:
        return today - timedelta(days=((today.weekday() - WEEKDAYS.index(m.group(1))) % 7) or 7)
    if re.search(r"\b(?:today|this (?:morning|afternoon|evening)|tonight)\b", text):
        return today
    m = re.search(r"\bin\s+(\d{1,2}|a|an|one|two|three|four|five|six)\s+(day|days|week|weeks)\b", text)
    if m:
        n = {"a": 1, "an": 1}.get(m.group(1)) or _NUMBER_WORDS.get(m.group(1)) or int(m.group(1))
        return today + timedelta(days=n * (7 if m.group(2).startswith("week") else 1))
    if re.search(r"\bnext week\b", text):
        return today + timedelta(days=7 - today.weekday())  # Monday of next week
    m = re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", text)
    if m:
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.search(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b", text)
    if m:  # US order: month/day
        year = int(m.group(3)) if m.group(3) else today.year
        year = year + 2000 if year < 100 else year
        found = _safe_date(year, int(m.group(1)), int(m.group(2)))
        if found and not m.group(3) and found < today:
            found = _safe_date(year + 1, found.month, found.day)
        return found
    month_names = "|".join(sorted(_MONTHS, key=len, reverse=True))
    m = re.search(rf"\b({month_names})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", text) or re.search(
        rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({month_names})\b", text
    )
    if m:
        a, b = m.group(1), m.group(2)
        month, day = (_MONTHS[a], int(b)) if a in _MONTHS else (_MONTHS[b], int(a))
        found = _safe_date(today.year, month, day)
        if found and found < today:
            found = _safe_date(today.year + 1, month, day)
        return found
    for word in re.findall(r"[a-z]+", text):
        if word in _WEEKDAY_ALIASES:
            target = _WEEKDAY_ALIASES[word]
            ahead = (target - today.weekday()) % 7
            if re.search(rf"\bnext\s+{word}\b", text) and ahead == 0:
                ahead = 7
            elif ahead == 0 and not re.search(r"\b(?:this|today)\b", text):
                ahead = 7 if "next" in text else 0
            return today + timedelta(days=ahead)
    return None


def _safe_date(year: int, month: int, day: int) -> Optional[date]:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_preferred_time(text: str, clinic: Clinic, now: Optional[datetime] = None) -> TimeParse:
    """When the person wants to come in, from free text, checked against the clinic's hours.

    A day without a time means the morning; a time without a day means the next day on which
    that time is still ahead. The result is timezone-aware, in the clinic's timezone.
    """
    tz = ZoneInfo(clinic.timezone)
    now = (now or datetime.now(tz)).astimezone(tz)
    lowered = " ".join((text or "").lower().split())
    if not lowered:
        return TimeParse(None, "unparsed")
    day = _parse_day(lowered, now.date())
    clock, _explicit = _parse_clock(lowered)
    if day is None and clock is None:
        return TimeParse(None, "unparsed")
    if day is None:
        day = now.date() if datetime.combine(now.date(), clock, tz) > now else now.date() + timedelta(days=1)
    if clock is None:
        clock = _DAY_PARTS["morning"]
    when = datetime.combine(day, clock, tz)
    if when <= now and day == now.date() and _names_weekday(lowered):
        # "monday" said on a Monday after the time has gone means next Monday.
        when += timedelta(days=7)
        day = when.date()
    if when <= now:
        return TimeParse(when, "past")
    if day.weekday() not in clinic.opening_hours:
        return TimeParse(when, "closed_day")
    if not clinic.is_open(day.weekday(), clock):
        return TimeParse(when, "closed_time")
    return TimeParse(when)


def _names_weekday(text: str) -> bool:
    if re.search(r"\b(?:today|this|last|yesterday)\b", text):
        return False
    return any(word in _WEEKDAY_ALIASES for word in re.findall(r"[a-z]+", text))


def describe_time(when: datetime) -> str:
    """A time as people read it: "Tuesday, December 1 at 9:00 AM"."""
    hour = when.hour % 12 or 12
    return f"{when:%A}, {when:%B} {when.day} at {hour}:{when.minute:02d} {'AM' if when.hour < 12 else 'PM'}"
