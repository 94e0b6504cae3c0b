"""Request parameters of the console: each is parsed once, and anything malformed is refused with
a ParamError (the app answers 400 with its message) instead of being guessed or reaching the
database (an out-of-range date overflowed into a 500; a NUL character makes PostgreSQL refuse the
query)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

# Dates staff can filter on: wide enough for any real conversation, narrow enough that adding a
# day or a time zone offset never overflows Python's or the database's date range.
MIN_DAY = date(2000, 1, 1)
MAX_DAY = date(2100, 12, 31)
MAX_PAGE = 100_000
# C0 control characters other than tab, newline and carriage return, and DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ParamError(ValueError):
    """A request parameter that cannot be used; the message is fixed text (never the value)."""


def has_control_chars(value: str) -> bool:
    return bool(_CONTROL.search(value))


def _raw(args: Any, name: str) -> str:
    value = args.get(name)
    return "" if value is None else str(value)


def text(args: Any, name: str, limit: int) -> str | None:
    """Free text (search, channel, rule id ...): at most `limit` characters, no control characters."""
    value = _raw(args, name).strip()
    if len(value) > limit:
        raise ParamError(f"{name}: at most {limit} characters")
    if has_control_chars(value):
        raise ParamError(f"{name}: control characters are not allowed")
    return value or None


def day(args: Any, name: str) -> date | None:
    value = _raw(args, name).strip()
    if not value:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ParamError(f"{name}: a date as YYYY-MM-DD") from None
    if not MIN_DAY <= parsed <= MAX_DAY:
        raise ParamError(f"{name}: a date between {MIN_DAY.isoformat()} and {MAX_DAY.isoformat()}")
    return parsed


def choice(args: Any, name: str, allowed: Iterable[str], default: str | None = None) -> str | None:
    value = _raw(args, name).strip()
    if not value:
        return default
    allowed = tuple(allowed)
    if value not in allowed:
        raise ParamError(f"{name}: one of {', '.join(allowed)}")
    return value


def page(args: Any, name: str = "page") -> int:
    value = _raw(args, name).strip()
    if not value:
        return 1
    if not re.fullmatch(r"\d{1,6}", value) or not 1 <= int(value) <= MAX_PAGE:
        raise ParamError(f"{name}: a whole number from 1 to {MAX_PAGE}")
    return int(value)
