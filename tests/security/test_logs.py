"""Issue 8: no message text or phone number in any log at any level, Rasa's own included.

A marker text and a marker phone number go through every channel (the project's dev test
channel, the website widget, signed Twilio SMS) with the servers at DEBUG, and the error paths are
forced: an oversized message, the database down (SQLite locked), the action server down. Then
every log the processes wrote is searched for the marker and the number in every usual spelling.
The channels may change (h8-channels): each one is one small function below.
"""

from __future__ import annotations

import secrets
import uuid

import pytest

from tests.e2e.stack import Stack, dev_post
from tests.security.server_helpers import sqlite_locked, talk

pytestmark = pytest.mark.e2e

MARKER = "zq" + secrets.token_hex(6) + "marker"
LOCAL = f"555{secrets.randbelow(10_000):04d}"
PHONE = f"+1312{LOCAL}"  # fictional (555 exchange)
SPELLINGS = [PHONE, PHONE[1:], PHONE[2:], f"(312) {LOCAL[:3]}-{LOCAL[3:]}", f"312-{LOCAL[:3]}-{LOCAL[3:]}", f"{LOCAL[:3]}-{LOCAL[3:]}"]


def rest(stack: Stack, text: str) -> None:
    """The dev channel; a refusal (413 too long, 429, 503) is an answer too: only the logs matter here."""
    dev_post(stack.rasa_url, "log-" + uuid.uuid4().hex, text, timeout=120)


def widget(stack: Stack, text: str) -> None:
    from tests.channels.conftest import new_conversation, visitor, widget_post

    client = visitor()
    widget_post(stack, new_conversation(stack, client), text, client)


def sms(stack: Stack, text: str) -> None:
    from tests.channels.conftest import sms_params, sms_post

    sms_post(stack, sms_params(PHONE, text))


CHANNELS = [rest, widget, sms]


@pytest.fixture(scope="module")
def stack(trained_model, tmp_path_factory):
    import tests.channels.conftest  # noqa: F401 - sets the SMS channel's token in the environment

    db = tmp_path_factory.mktemp("logs") / "clonus.sqlite3"
    stack = Stack(
        model=trained_model, database_url=f"sqlite:///{db}", env_extra={"LOG_LEVEL": "DEBUG", "LOG_LEVEL_LIBRARIES": "DEBUG"}
    )
    stack.db_file = db
    try:
        yield stack.start()
    finally:
        stack.stop()


def sent_text(where: str) -> str:
    return f"my legs jerk {MARKER} {where}, call me on {PHONE} or ({PHONE[2:5]}) {LOCAL[:3]}-{LOCAL[3:]}"


def test_no_marker_text_or_phone_number_in_any_log(stack):
    for channel in CHANNELS:
        channel(stack, sent_text("normal"))
    # A booking: the phone number becomes a slot, is validated, stored, said back.
    who = "log-" + uuid.uuid4().hex
    for text in ["I want to book an appointment", f"Jo {MARKER}", PHONE, "next monday morning", f"jerks {MARKER}", "yes"]:
        talk(stack, who, text, timeout=120)
    # Error paths: oversize, database down, action server down.
    for channel in CHANNELS:
        channel(stack, (sent_text("oversize") + " ") * 2000)
    with sqlite_locked(stack.db_file):
        for channel in CHANNELS:
            channel(stack, sent_text("database down"))
    stack.stop_action_server()
    try:
        for channel in CHANNELS:
            channel(stack, sent_text("actions down"))
    finally:
        stack.start_action_server()
    stack.stop()  # shutdown logs too
    logs = {p.name: p.read_text(errors="replace") for p in stack.log_files()}
    assert logs and all(logs.values()), "the processes wrote no logs: nothing was checked"
    for name, text in logs.items():
        assert MARKER not in text, f"{name} has the message text: ...{text[max(0, text.find(MARKER) - 300):text.find(MARKER) + 100]}"
        for spelling in SPELLINGS:
            assert spelling not in text, f"{name} has the phone number as {spelling}"
