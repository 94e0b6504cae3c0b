"""Booking answers as people type them: names, phone numbers, days and times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.booking import (
    CORRECTABLE_FIELDS,
    Correction,
    describe_time,
    format_phone,
    normalise_phone,
    parse_correction,
    parse_name,
    parse_preferred_time,
)
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


@pytest.mark.parametrize("text", ["yes pls", "Yes", "ok sure", "no thanks", "yeah", "sure thing ok", "yep please"])
def test_a_reply_to_an_offer_is_not_a_name(text):
    assert parse_name(text) is None


@pytest.mark.parametrize("text, expected", [("Will", "Will"), ("Sure Okafor", "Sure Okafor"), ("Hope Thing", "Hope Thing")])
def test_a_name_holding_a_reply_word_is_still_a_name(text, expected):
    assert parse_name(text) == expected


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


# --- the table of phrasings people type (issue 10) -------------------------------------------
# Calendar around NOW: Sun 22 Nov 2026, Mon 23, Tue 24, Wed 25, Thu 26, Fri 27, Sat 28, Sun 29,
# Mon 30, Tue 1 Dec, Wed 2, Thu 3, Fri 4, Mon 7, Tue 8, Wed 9, Thu 10, Mon 14.
# Clinic hours (clinic.yml): Mon-Wed 8:30-17:00, Thu 8:30-19:00, Fri 8:30-16:00, weekend closed.
TUESDAY_NOW = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)  # Tuesday 24 November 2026, 10:00


def at(month, day, hour, minute=0, year=2026):
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


PHRASINGS = [
    # weekday + clock
    ("tuesday 9:30", NOW, at(11, 24, 9, 30)),
    ("friday 3:30pm", NOW, at(11, 27, 15, 30)),
    ("Friday 3:30 PM", NOW, at(11, 27, 15, 30)),
    ("next tues 2pm", NOW, at(11, 24, 14)),
    ("930am thurs", NOW, at(11, 26, 9, 30)),
    ("thurs 1030am", NOW, at(11, 26, 10, 30)),
    ("wed @ 11", NOW, at(11, 25, 11)),
    ("mon @ 2", NOW, at(11, 23, 14)),
    ("monday around 3", NOW, at(11, 23, 15)),
    ("around 10 on wednesday", NOW, at(11, 25, 10)),
    ("thursday at 6:30pm", NOW, at(11, 26, 18, 30)),
    ("thursday at 6", NOW, at(11, 26, 18)),  # 6 PM is inside Thursday's hours
    ("friday 2", NOW, at(11, 27, 14)),
    ("tues at 9.30am", NOW, at(11, 24, 9, 30)),
    ("monday at 10ish", NOW, at(11, 23, 10)),
    ("wednesday 14:00", NOW, at(11, 25, 14)),
    ("this wednesday at 4", NOW, at(11, 25, 16)),
    ("coming monday 9am", NOW, at(11, 23, 9)),
    # typos and SMS shorthand
    ("tusday at 10", NOW, at(11, 24, 10)),
    ("wendsday 2pm", NOW, at(11, 25, 14)),
    ("thrusday @ 11", NOW, at(11, 26, 11)),
    ("wensday morning", NOW, at(11, 25, 9)),
    ("fridy at 1", NOW, at(11, 27, 13)),
    ("tmrw @ 2", NOW, at(11, 23, 14)),
    ("2moro 10am", NOW, at(11, 23, 10)),
    ("tomorow afternoon", NOW, at(11, 23, 14)),
    ("nxt wk tues 11am", NOW, at(12, 1, 11)),
    ("tmrw aftn", NOW, at(11, 23, 14)),
    ("mon 10 a.m.", NOW, at(11, 23, 10)),
    # month and day
    ("dec 8 10am", NOW, at(12, 8, 10)),
    ("Dec. 8th at 10", NOW, at(12, 8, 10)),
    ("december 2nd 3pm", NOW, at(12, 2, 15)),
    ("november 30th at 11", NOW, at(11, 30, 11)),
    ("the 30th of november at 9:45", NOW, at(11, 30, 9, 45)),
    ("8 dec at 2:15pm", NOW, at(12, 8, 14, 15)),
    ("decmber 9 at noon", NOW, at(12, 9, 12)),
    ("12/3 at 2", NOW, at(12, 3, 14)),
    ("12/03/2026 at 10am", NOW, at(12, 3, 10)),
    ("11/30 9am", NOW, at(11, 30, 9)),
    ("the 14th at 3", NOW, at(12, 14, 15)),
    ("on the 1st at 8:30", NOW, at(12, 1, 8, 30)),
    ("dec 8", NOW, at(12, 8, 9)),
    ("dec 8 10", NOW, at(12, 8, 10)),
    # relative days and parts of the day
    ("tomorrow at noon", NOW, at(11, 23, 12)),
    ("tomorrow at 3pm", NOW, at(11, 23, 15)),
    ("monday morning", NOW, at(11, 23, 9)),
    ("monday first thing", NOW, at(11, 23, 8, 30)),
    ("tuesday late afternoon", NOW, at(11, 24, 16)),
    ("day after tomorrow at 11", NOW, at(11, 24, 11)),
    ("in 2 weeks on a wednesday", NOW, at(12, 9, 9)),
    ("in 3 days at 10am", NOW, at(11, 25, 10)),
    ("next week tuesday 10am", NOW, at(12, 1, 10)),
    ("tuesday next week at 2", NOW, at(12, 1, 14)),
    ("this afternoon", TUESDAY_NOW, at(11, 24, 14)),
    ("today at 3", TUESDAY_NOW, at(11, 24, 15)),
    ("today 4:30", TUESDAY_NOW, at(11, 24, 16, 30)),
    ("later today around 1", TUESDAY_NOW, at(11, 24, 13)),
    ("thursday evening", NOW, at(11, 26, 17, 30)),
    # spoken clock times
    ("quarter past 2 on thursday", NOW, at(11, 26, 14, 15)),
    ("half past 10 on monday", NOW, at(11, 23, 10, 30)),
    ("quarter to 3 tuesday", NOW, at(11, 24, 14, 45)),
    ("two thirty on friday", NOW, at(11, 27, 14, 30)),
    ("ten am on wednesday", NOW, at(11, 25, 10)),
    ("wednesday at eleven", NOW, at(11, 25, 11)),
    ("monday 3 o'clock", NOW, at(11, 23, 15)),
    # time only: the next day the clinic is open then
    ("10am", NOW, at(11, 23, 10)),
    ("at 3", NOW, at(11, 23, 15)),
    ("noon", TUESDAY_NOW, at(11, 24, 12)),
    ("at 9", TUESDAY_NOW, at(11, 25, 9)),  # 9 on Tuesday has gone: Wednesday
    ("6pm", NOW, at(11, 26, 18)),  # only Thursday is open at 6 PM
    ("afternoon", NOW, at(11, 23, 14)),
    # ranges and wrapped answers
    ("tuesday between 2 and 3", NOW, at(11, 24, 14)),
    ("wed 2-3pm", NOW, at(11, 25, 14)),
    ("monday at 10 or 11", NOW, at(11, 23, 10)),
    ("11-1pm tuesday", NOW, at(11, 24, 11)),
    ("friday the 27th at 10am", NOW, at(11, 27, 10)),
    ("fri 27th 10am", NOW, at(11, 27, 10)),
    ("Thursday, December 3 at 2:00 PM", NOW, at(12, 3, 14)),
    ("tues dec 1 @ 930", NOW, at(12, 1, 9, 30)),
    ("can i come in on tuesday around 9:30 if thats ok", NOW, at(11, 24, 9, 30)),
    ("Tuesday works, 10:30?", NOW, at(11, 24, 10, 30)),
]


@pytest.mark.parametrize("text, now, expected", PHRASINGS)
def test_phrasings_people_type(text, now, expected):
    parsed = parse_preferred_time(text, CLINIC, now)
    assert (parsed.when, parsed.problem) == (expected, None)


REFUSALS = [
    # not a time at all
    ("10 sec", NOW, "unparsed"),
    ("it lasts 10 seconds", NOW, "unparsed"),
    ("lkjlkj 8888", NOW, "unparsed"),
    ("312-555-0177", NOW, "unparsed"),
    ("no wait wrong number, its 312-555-0177", NOW, "unparsed"),
    ("3125550177", NOW, "unparsed"),
    ("(312) 555-0142 on tuesday", NOW, "unparsed"),
    ("HELP", NOW, "unparsed"),
    ("post stroke follow up", NOW, "unparsed"),
    ("10", NOW, "unparsed"),
    ("5 jerks", NOW, "unparsed"),
    ("it started 3 days ago", NOW, "unparsed"),
    ("since monday", NOW, "unparsed"),
    ("whenever", NOW, "unparsed"),
    ("the 45th at 3", NOW, "unparsed"),
    ("13/45", NOW, "unparsed"),
    ("tuesday at 25:00", NOW, "unparsed"),
    # the weekend
    ("saturday 10am", NOW, "closed_day"),
    ("sat morning", NOW, "closed_day"),
    ("this weekend", NOW, "closed_day"),
    ("sunday at 11", NOW, "closed_day"),
    ("in a week", NOW, "closed_day"),  # Sunday 29 November
    ("this afternoon", NOW, "closed_day"),  # said on a Sunday
    ("november 20th at 11", NOW, "closed_day"),  # 20 Nov has gone: 20 Nov 2027, a Saturday
    # after hours
    ("monday at 7pm", NOW, "closed_time"),
    ("tuesday 5:30pm", NOW, "closed_time"),
    ("friday 4:30pm", NOW, "closed_time"),
    ("wednesday at 8", NOW, "closed_time"),  # 8:00 AM is before opening, 8 PM after closing
    ("thursday 7:15pm", NOW, "closed_time"),
    ("tues 6am", NOW, "closed_time"),
    ("tonight", TUESDAY_NOW, "closed_time"),
    ("monday midnight", NOW, "closed_time"),
    # the past
    ("yesterday at 10am", NOW, "past"),
    ("last monday", TUESDAY_NOW, "past"),
    ("this morning", TUESDAY_NOW, "past"),
    ("today at 9am", TUESDAY_NOW, "past"),
    ("11/20/2026 at 10", NOW, "past"),
    ("2025-12-01 10:00", NOW, "past"),
]


@pytest.mark.parametrize("text, now, problem", REFUSALS)
def test_phrasings_that_must_be_refused(text, now, problem):
    assert parse_preferred_time(text, CLINIC, now).problem == problem


def test_the_table_is_large_enough():
    assert len(PHRASINGS) + len(REFUSALS) >= 60


# --- phone numbers as people correct them ----------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("no wait wrong number, its 312-555-0177", "+13125550177"),
        ("(312)555-0177", "+13125550177"),
        ("3125550177", "+13125550177"),
        ("the phone is wrong, it's 312 555 0199", "+13125550199"),
        ("312 555 0100, no wait, 312 555 0177", "+13125550177"),
        ("it's 312 555 0199 not 312 555 0177", "+13125550199"),
        ("my cell is 312.555.0177 call after 5", "+13125550177"),
    ],
)
def test_phone_numbers_in_corrections(text, expected):
    assert normalise_phone(text) == expected


# --- corrections at the read-back ------------------------------------------------------------

CORRECTIONS = [
    ("the phone is wrong, it's 312 555 0199", "phone_number", "312 555 0199"),
    ("no the phone number is wrong", "phone_number", None),
    ("no wait wrong number, its 312-555-0177", "phone_number", "312-555-0177"),
    ("phone: 3125550177", "phone_number", "3125550177"),
    ("the number should be 312 555 0199 thanks", "phone_number", "312 555 0199"),
    ("my number is (312)555-0177 not 312 555 0100", "phone_number", "(312)555-0177"),
    ("actually 312 555 0199", "phone_number", "312 555 0199"),
    ("thats not my number", "phone_number", None),
    ("everything is right except the phone", "phone_number", None),
    ("name should be Frank Moretti", "patient_name", "Frank Moretti"),
    ("wrong name, it's Frank Moretti", "patient_name", "Frank Moretti"),
    ("Frank Moretti is my name", "patient_name", "Frank Moretti"),
    ("nope, name should be Frank Moretti", "patient_name", "Frank Moretti"),
    ("my name is spelled Frank Moretti", "patient_name", "Frank Moretti"),
    ("name is frank moretti not frank morety", "patient_name", "frank moretti"),
    ("the name is wrong", "patient_name", None),
    ("make it thursday at 10 instead", "preferred_time", "thursday at 10"),
    ("can we make it 10:30 instead", "preferred_time", "10:30"),  # the colon of a clock time is no "field: value"
    ("time: friday 10:30", "preferred_time", "friday 10:30"),
    ("change the time to friday at 2", "preferred_time", "friday at 2"),
    ("can we do friday 9am instead", "preferred_time", "friday 9am"),
    ("wrong time, thursday 3pm please", "preferred_time", "thursday 3pm"),
    ("the day should be monday not tuesday", "preferred_time", "monday"),
    ("not tuesday, wednesday at 10", "preferred_time", "wednesday at 10"),
    ("reschedule to next tues 2pm", "preferred_time", "next tues 2pm"),
    ("time: dec 8 10am", "preferred_time", "dec 8 10am"),
    ("the date is wrong", "preferred_time", None),
    ("wrong day", "preferred_time", None),
    ("reason: follow up after stroke", "visit_reason", "follow up after stroke"),
    ("the reason should be botox follow up", "visit_reason", "botox follow up"),
    ("reason for the visit is post stroke follow up", "visit_reason", "post stroke follow up"),
    ("no, the reason is follow up after my stroke", "visit_reason", "follow up after my stroke"),
    ("its for my botox follow up", "visit_reason", "my botox follow up"),
    ("reason is wrong", "visit_reason", None),
]


@pytest.mark.parametrize("text, field, value", CORRECTIONS)
def test_corrections_name_the_field_and_the_new_value(text, field, value):
    assert parse_correction(text, CLINIC, NOW) == Correction(field, value)
    assert field in CORRECTABLE_FIELDS


@pytest.mark.parametrize("text", ["no", "yes", "yes thats right", "Frank Moretti", "hmm", "", "looks good", "lkjlkj 8888"])
def test_messages_that_correct_nothing(text):
    assert parse_correction(text, CLINIC, NOW) is None


def test_a_corrected_value_goes_through_the_same_parsers():
    fix = parse_correction("the phone is wrong, it's 312 555 0199", CLINIC, NOW)
    assert normalise_phone(fix.value) == "+13125550199"
    fix = parse_correction("make it thursday at 10 instead", CLINIC, NOW)
    assert parse_preferred_time(fix.value, CLINIC, NOW).when == at(11, 26, 10)
