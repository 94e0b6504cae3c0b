"""Booking answers as people type them: names, phone numbers, days and times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.booking import describe_time, format_phone, normalise_phone, parse_name, parse_preferred_time
from bot.settings import load_clinic

CLINIC = load_clinic()
TZ = ZoneInfo(CLINIC.timezone)
# Sunday 22 November 2026, 10:00 in the clinic's timezone.
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Jane Doe", "Jane Doe"),
        ("my name is jane doe", "Jane Doe"),
        ("I'm Mary-Ann O'Neil", "Mary-Ann O'Neil"),
        ("it's Jose Alvarez", "Jose Alvarez"),
        ("JOHN SMITH", "John Smith"),
        ("Zoë Ångström", "Zoë Ångström"),
        ("McDonald", "McDonald"),
    ],
)
def test_names_are_taken_from_natural_answers(text, expected):
    assert parse_name(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "555 0142", "jane123", "<script>alert(1)</script>", "x" * 200, "!!!"])
def test_non_names_are_refused(text):
    assert parse_name(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("(312) 555-0142", "+13125550142"),
        ("312.555.0142", "+13125550142"),
        ("call me on 312 555 0142 please", "+13125550142"),
        ("+1 312-555-0142", "+13125550142"),
        ("13125550142", "+13125550142"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_numbers_are_stored_in_e164(text, expected):
    assert normalise_phone(text) == expected


@pytest.mark.parametrize("text", ["", "12345", "555-0142", "my phone", "000 000 0000", "(555) 010-0199"])
def test_invalid_phone_numbers_are_refused(text):
    assert normalise_phone(text) is None


def test_phone_display():
    assert format_phone("+13125550142") == "(312) 555-0142"
    assert format_phone("+442079460958") == "+44 20 7946 0958"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("next tuesday morning", datetime(2026, 11, 24, 9, 0, tzinfo=TZ)),
        ("tomorrow at 3pm", datetime(2026, 11, 23, 15, 0, tzinfo=TZ)),
        ("Monday 10:30", datetime(2026, 11, 23, 10, 30, tzinfo=TZ)),
        ("12/3 at 2", datetime(2026, 12, 3, 14, 0, tzinfo=TZ)),
        ("Dec 3rd in the afternoon", datetime(2026, 12, 3, 14, 0, tzinfo=TZ)),
        ("3 december at 11am", datetime(2026, 12, 3, 11, 0, tzinfo=TZ)),
        ("in 2 days at noon", datetime(2026, 11, 24, 12, 0, tzinfo=TZ)),
        ("thurs at 6:30 pm", datetime(2026, 11, 26, 18, 30, tzinfo=TZ)),
        ("wednesday", datetime(2026, 11, 25, 9, 0, tzinfo=TZ)),
        ("2026-12-01 16:00", datetime(2026, 12, 1, 16, 0, tzinfo=TZ)),
    ],
)
def test_preferred_times_are_parsed(text, expected):
    parsed = parse_preferred_time(text, CLINIC, NOW)
    assert parsed.problem is None
    assert parsed.when == expected


@pytest.mark.parametrize(
    "text, problem",
    [
        ("yesterday at 10am", "past"),
        ("last monday", "past"),
        ("11/2 at 10am", None),  # month/day already gone this year -> next year, which is fine
        ("saturday at 10am", "closed_day"),
        ("sunday", "closed_day"),
        ("monday at 7pm", "closed_time"),
        ("friday 4:30pm", "closed_time"),
        ("tuesday at 6am", "closed_time"),
        ("whenever works", "unparsed"),
        ("", "unparsed"),
        ("asap", "unparsed"),
    ],
)
def test_times_outside_hours_or_in_the_past_are_refused(text, problem):
    assert parse_preferred_time(text, CLINIC, NOW).problem == problem


def test_times_are_read_back_in_plain_words():
    assert describe_time(datetime(2026, 11, 24, 9, 0, tzinfo=TZ)) == "Tuesday, November 24 at 9:00 AM"
