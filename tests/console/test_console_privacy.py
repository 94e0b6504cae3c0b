"""Phone masking and CSV defusing (pure functions)."""

from __future__ import annotations

import pytest

from console.privacy import can_see_phone, csv_safe, display_conversation_id, mask_number, mask_phones


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me on 555-555-0199 please", "call me on ••••••••99 please"),
        ("+15555550123", "+•••••••••23"),
        ("(555) 555-0100", "••••••••00"),
        ("I took 50 mg at 8:30", "I took 50 mg at 8:30"),
        ("since 2019-03-04", "since 2019-03-04"),
        ("on 03/04/2019 and 4.3.19", "on 03/04/2019 and 4.3.19"),
        ("", ""),
    ],
)
def test_mask_phones(text: str, expected: str) -> None:
    assert mask_phones(text) == expected


def test_mask_number_keeps_two_digits() -> None:
    assert mask_number("+447700900123") == "+••••••••••23"


def test_conversation_ids_are_masked_only_where_no_role_needs_them() -> None:
    assert display_conversation_id("+15555550123", "admin", "transcript") == "+•••••••••23"
    assert display_conversation_id("8f2c0d0e9a", "staff", "list") == "8f2c0d0e9a"
    assert can_see_phone("staff", "appointments") and can_see_phone("admin", "appointments")
    assert not can_see_phone(None, "appointments") and not can_see_phone("staff", "export")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+15555550123", "'+15555550123"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("normal", "normal"),
        (12, 12),
    ],
)
def test_csv_safe(cell, expected) -> None:  # type: ignore[no-untyped-def]
    assert csv_safe(cell) == expected
