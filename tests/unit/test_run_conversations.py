"""The checks of scripts/run_conversations.py on hand-made transcripts (no server): each check
fails when what it guards is missing."""

from __future__ import annotations

import importlib.util
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("run_conversations", ROOT / "scripts" / "run_conversations.py")
runner = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("run_conversations", runner)
_spec.loader.exec_module(runner)
Exchange = runner.Exchange


def ex(turn, reply, emergency=False, label=None):
    return Exchange(label or (f"turn {turn}" if turn else "form x"), turn, "msg", reply, emergency)


def test_answers_of_makes_every_value_a_list():
    assert runner.answers_of({"a": "yes", "b": ["x", "y"], "c": 8}) == {"a": ["yes"], "b": ["x", "y"], "c": ["8"]}
    assert runner.answers_of(None) == {}


@pytest.mark.parametrize(
    "expected, flags, status",
    [
        (None, [False, False], "pass"),
        (None, [False, True], "fail"),
        (2, [False, True], "pass"),
        (2, [True, True], "fail"),  # too early
        (1, [False, True], "fail"),  # too late
        (1, [False, False], "fail"),  # never
    ],
)
def test_emergency_first_reply(expected, flags, status):
    exchanges = [ex(i, ["r"], f) for i, f in enumerate(flags, start=1)]
    assert runner.check_emergency(expected, exchanges).status == status


def test_emergency_in_the_opening_counts_before_turn_one():
    exchanges = [ex(None, ["hi"], True, label="open"), ex(1, ["r"], True)]
    assert runner.check_emergency(1, exchanges).status == "fail"


def test_crisis_needs_both_numbers_in_every_reply_from_the_turn_on():
    good = "Call 911 now, or call or text 988."
    assert runner.check_crisis(2, [ex(1, ["hello"]), ex(2, [good]), ex(3, [good])], "988", "911").status == "pass"
    assert runner.check_crisis(2, [ex(1, ["hello"]), ex(2, [good]), ex(3, ["Take care"])], "988", "911").status == "fail"
    assert runner.check_crisis(2, [ex(2, [good]), ex(None, ["call 911"])], "988", "911").status == "fail"
    assert runner.check_crisis(None, [ex(1, ["x"])], "988", "911").status == "n/a"


def test_triage_level():
    assert runner.check_triage("urgent", {"triage_level": "urgent"}).status == "pass"
    assert runner.check_triage("urgent", {"triage_level": "routine"}).status == "fail"
    assert runner.check_triage(None, {"triage_level": "routine"}).status == "n/a"


ROW = {
    "patient_name": "Dana Kowalski",
    "phone_e164": "+13125550178",
    "preferred_time": datetime(2026, 12, 8, 17, 30, tzinfo=timezone.utc),  # Tuesday 11:30 in Chicago
    "reason": "Jerking in my left hand",
}
EXPECTED = {
    "patient_name": "Dana Kowalski",
    "phone_number": "+13125550178",
    "weekday": "tuesday",
    "hour": 11,
    "reason_contains": "hand",
}


def test_booking_matches_in_the_clinic_time_zone():
    assert runner.check_booking(EXPECTED, [ROW], "America/Chicago").status == "pass"
    assert runner.check_booking(EXPECTED, [ROW], "UTC").status == "fail"


@pytest.mark.parametrize("field, value", [("patient_name", "Checkup"), ("phone_e164", "+13125550170"), ("reason", "ankle")])
def test_booking_wrong_field_fails(field, value):
    check = runner.check_booking(EXPECTED, [{**ROW, field: value}], "America/Chicago")
    assert check.status == "fail"


def test_booking_counts():
    assert runner.check_booking(None, [], "UTC").status == "pass"
    assert runner.check_booking(None, [ROW], "UTC").status == "fail"
    assert runner.check_booking(EXPECTED, [], "America/Chicago").status == "fail"
    assert runner.check_booking(EXPECTED, [ROW, ROW], "America/Chicago").status == "fail"
    assert runner.check_booking(EXPECTED, None, "America/Chicago").status == "n/a"


def test_medicines_said_back_in_text_or_slots():
    exchanges = [ex(1, ["You mentioned Celexa (citalopram)."])]
    assert runner.check_medicines(["citalopram"], exchanges, {}).status == "pass"
    assert runner.check_medicines(["mdma"], exchanges, {"medications": ["mdma"]}).status == "pass"
    assert runner.check_medicines(["mdma"], exchanges, {}).status == "fail"
    assert runner.check_medicines(["citalopram"], [ex(1, ["escitalopramx"])], {}).status == "fail"


def test_requested_slot_only_while_a_form_is_active():
    assert runner.requested_slot({"active_loop": {"name": "booking_form"}, "slots": {"requested_slot": "phone_number"}}) == "phone_number"
    assert runner.requested_slot({"active_loop": {}, "slots": {"requested_slot": "phone_number"}}) is None
