"""Masking of phone numbers and CSV cell defusing: one place for what staff see and export."""

from __future__ import annotations

import re
from typing import Any

# 7+ digits, optionally with a leading +, separated by spaces, dots, dashes or brackets.
_PHONE = re.compile(r"(?<![\w])\+?(?:[\s().-]*\d){7,15}(?![\w])")

# Where full phone numbers are shown, by role: front-desk work on booking requests needs them
# (calling the person back); reading a transcript does not.
PHONE_VISIBLE = {
    "appointments": frozenset({"staff", "admin"}),
    "transcript": frozenset(),
    "list": frozenset(),
    "export": frozenset(),
}


# Dates have as many digits as short phone numbers; they are clinical information, not identifiers.
_DATE = re.compile(r"\s*(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})\s*")


def can_see_phone(role: str | None, where: str) -> bool:
    return role in PHONE_VISIBLE.get(where, frozenset())


def mask_number(number: str) -> str:
    """'+15555550101' -> '+•••••••••01' (keeps the last two digits for telling numbers apart)."""
    digits = [c for c in number if c.isdigit()]
    if len(digits) <= 2:
        return "•" * len(number)
    keep = "".join(digits[-2:])
    return ("+" if number.strip().startswith("+") else "") + "•" * (len(digits) - 2) + keep


def mask_phones(text: str | None) -> str:
    """Mask every phone-like run of digits in free text."""
    if not text:
        return ""
    return _PHONE.sub(lambda m: m.group(0) if _DATE.fullmatch(m.group(0)) else mask_number(m.group(0)), text)


def looks_like_phone(value: str | None) -> bool:
    return bool(value) and _PHONE.fullmatch(value.strip()) is not None


def display_conversation_id(conversation_id: str, role: str | None, where: str) -> str:
    """Conversation ids are phone numbers on SMS channels: mask them unless the role needs them."""
    if can_see_phone(role, where):
        return conversation_id
    return mask_phones(conversation_id)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_safe(value: Any) -> Any:
    """Defuse spreadsheet formula injection: a text cell starting with = + - @ (or a control
    character) is prefixed with an apostrophe so that spreadsheets show it as text (OWASP)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
