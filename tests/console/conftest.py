"""Console fixtures: the Flask app on the test database (SQLite and PostgreSQL, rolled back after
each test), signed-in clients, and a small set of fictional conversations with hostile text.
The database fixtures come from tests/fixtures_db.py (registered in tests/conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

import bot.db as db
from bot.db.models import ConversationReview, ConversationSummary
from console import auth, demo
from console import conversations as conv
from console.app import create_app
from tests.console.helpers import NOW, PASSWORD, PHONE_IN_TEXT, SECRET, SMS_SENDER, UTC, XSS, sign_in


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # argon2's production parameters cost ~50 ms a hash; tests only need the same algorithm.
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def app(db_url: str, db_connection):  # type: ignore[no-untyped-def]
    application = create_app(database_url=db_url, secret_key=SECRET, cookie_secure=True, timezone_=UTC)
    application.config.update(TESTING=False, PREFERRED_URL_SCHEME="https")
    return application


@pytest.fixture
def make_user(db_url: str, db_connection):  # type: ignore[no-untyped-def]
    def make(username: str, role: str = "staff", password: str = PASSWORD) -> int:
        with db.session_scope(db_url) as s:
            return auth.create_user(s, username, password, role).id

    return make


@pytest.fixture
def staff(app, make_user):  # type: ignore[no-untyped-def]
    make_user("sam.staff", "staff")
    client = app.test_client()
    assert sign_in(client, "sam.staff").status_code == 302
    return client


@pytest.fixture
def admin(app, make_user):  # type: ignore[no-untyped-def]
    make_user("ada.admin", "admin")
    client = app.test_client()
    assert sign_in(client, "ada.admin").status_code == 302
    return client


def _scenario(name: str, turns, level, rules, reasons=()):  # type: ignore[no-untyped-def]
    return demo.Scenario(name, tuple(turns), level, tuple(rules), tuple(reasons))


@pytest.fixture
def seeded(db_url: str, db_connection):  # type: ignore[no-untyped-def]
    """Six fictional conversations (ids by letter) covering every level, channel and review state."""
    hostile = _scenario(
        "hostile",
        [
            ("hi", "greet", [], "Hello! I'm an automated assistant, not a doctor."),
            (
                f"my legs jerk on their own, I take zoloft {XSS} {PHONE_IN_TEXT}",
                "report_symptom",
                [{"entity": "medication", "value": "sertraline<b>", "extractor": "MedicationEntityExtractor"}],
                f"Call 911 now. {XSS}",
            ),
        ],
        "emergency",
        ["SS-HUNTER"],
    )
    convs = {
        "A": (SMS_SENDER, NOW - timedelta(hours=5), hostile, "twilio"),
        "B": ("conv-b-urgent", NOW - timedelta(hours=1), demo.SCENARIOS[1], "socketio"),
        "C": ("conv-c-reviewed-emergency", NOW - timedelta(hours=2), demo.SCENARIOS[0], "rest"),
        "D": ("conv-d-routine", NOW - timedelta(minutes=30), demo.SCENARIOS[2], "rest"),
        "E": ("conv-e-old-selfcare", NOW - timedelta(days=40), demo.SCENARIOS[3], "socketio"),
        "F": ("conv-f-education", NOW - timedelta(days=3), demo.SCENARIOS[4], "rest"),
    }
    rows = []
    for sender, start, scenario, channel in convs.values():
        rows += demo.conversation_events(sender, start, scenario, channel)
    demo.insert_events(db_connection, rows)
    db.record_assessment(
        "conv-b-urgent",
        "urgent",
        ["COMBO-MAOI"],
        ["You take phenelzine and sertraline together."],
        [{"name": "phenelzine", "status": "current"}],
        url=db_url,
    )
    appt = db.record_appointment_request(
        "conv-d-routine",
        f"Jordan {XSS}",
        "+15555550142",
        NOW + timedelta(days=2),
        f'=HYPERLINK("http://evil.example") {XSS}',
        "routine",
        url=db_url,
    )
    conv.sync_summaries(db_url)
    with db.session_scope(db_url) as s:
        s.add(
            ConversationReview(
                conversation_id="conv-c-reviewed-emergency", reviewed=True, reviewed_by="someone", reviewed_at=NOW
            )
        )
        refs = dict(s.execute(sa.select(ConversationSummary.conversation_id, ConversationSummary.ref)).all())
    return {
        "refs": {k: refs[v[0]] for k, v in convs.items()},
        "ids": {k: v[0] for k, v in convs.items()},
        "appointment": appt,
    }
