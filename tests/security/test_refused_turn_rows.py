"""Issue 8: rows written by a turn the Rasa server then refused to store, never resent.

The action server writes while the turn runs (an appointment request at the booking read-back's
"yes", a triage row for a new finding); the Rasa server stores the turn afterwards. When that save
fails (503, "your message could not be saved, please send it again") and the person never sends
it again, the rows stay for a turn that is not in the transcript: staff saw an emergency
assessment the conversation does not contain, and an appointment request the person was told had
not been saved.

The behaviour chosen: nothing is deleted (a row of a refused turn is taken over by its resend,
tests/security/test_server_resend.py); the console shows a row only when the user message of its
turn is stored (bot.db.in_transcript), i.e. exactly when the turn is in the transcript.

The real actions on rasa_sdk Trackers in the shape the Rasa server sends (timed events), the
conversation's stored events written into Rasa's `events` table as the tracker store writes them,
the real console (summaries, transcript, dashboard, appointment queue) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from datetime import timezone

import sqlalchemy as sa

import bot.db as db
from actions.booking import ActionSubmitBookingForm
from actions.triage import ActionTriage
from bot.db.models import AppointmentRequest, TriageAssessment
from bot.db.tracker import events
from console import conversations as conv
from tests.action_helpers import make_tracker, run
from tests.console.conftest import _fast_password_hashing, app, make_user, staff  # noqa: F401
from tests.security.console_support import audit_rows
from tests.security.test_actions_idempotent import BOOKING, EMERGENCY, attempt, stored_turns

UTC = timezone.utc


def store(url: str, sender: str, evts: list) -> None:
    """Write events into Rasa's `events` table the way SQLTrackerStore.save does."""
    with db.session_scope(url) as s:
        for e in evts:
            s.execute(
                sa.insert(events).values(
                    sender_id=sender,
                    type_name=e["event"],
                    timestamp=e.get("timestamp"),
                    intent_name=(e.get("parse_data") or {}).get("intent", {}).get("name"),
                    action_name=e.get("name"),
                    data=json.dumps(e),
                )
            )


def shown(url: str, sender: str) -> dict:
    """What staff see of this conversation: transcript assessments and requests, summary level."""
    conv.sync_summaries(url)
    with db.session_scope(url, write=False) as s:
        summary = s.execute(
            sa.select(conv.ConversationSummary).where(conv.ConversationSummary.conversation_id == sender)
        ).scalar_one()
        t = conv.transcript(s, summary.ref)
        return {
            "level": summary.triage_level,
            "assessments": [i.level for i in t.items if i.kind == "assessment"],
            "appointments": [a.id for a in t.appointments],
            "new_appointments": conv.dashboard(s, UTC).new_appointments,
        }


def row_ids(url: str, model: type, sender: str) -> list:
    with db.session_scope(url, write=False) as s:
        return list(s.execute(sa.select(model.id).where(model.conversation_id == sender)).scalars())


def test_refused_emergency_turn_never_resent_is_not_shown_to_staff(app, database, db_url):  # noqa: F811
    sender = f"refused-{uuid.uuid4().hex}"
    stored = stored_turns(["hello", EMERGENCY[0]])
    store(db_url, sender, stored)
    refused_turn = attempt(stored, EMERGENCY[1], 1_700_000_100.0, intent="report_symptom")
    run(ActionTriage(), make_tracker(events=refused_turn, sender_id=sender))
    assert len(row_ids(db_url, TriageAssessment, sender)) == 1  # written, and kept (nothing is deleted)

    # The Rasa server refused to store that turn and the person never sent it again.
    seen = shown(db_url, sender)
    assert seen["assessments"] == [] and seen["level"] != "emergency", seen

    # A later turn of the same conversation is stored: the refused one is still not shown.
    later = stored + stored_turns(["thanks"], start=1_700_000_200.0)
    store(db_url, sender, later[len(stored):])
    seen = shown(db_url, sender)
    assert seen["assessments"] == [] and seen["level"] != "emergency", seen


def test_a_stored_turns_triage_row_is_shown_once(app, database, db_url):  # noqa: F811
    sender = f"stored-{uuid.uuid4().hex}"
    stored = stored_turns(["hello", EMERGENCY[0]])
    store(db_url, sender, stored)
    refused_turn = attempt(stored, EMERGENCY[1], 1_700_000_100.0, intent="report_symptom")
    run(ActionTriage(), make_tracker(events=refused_turn, sender_id=sender))
    # The person sends it again and this time the turn is stored (its events, then its save).
    resent = attempt(stored, EMERGENCY[1], 1_700_000_130.0, intent="report_symptom")
    run(ActionTriage(), make_tracker(events=resent, sender_id=sender))
    store(db_url, sender, resent[len(stored):])
    seen = shown(db_url, sender)
    assert seen["assessments"] == ["emergency"] and seen["level"] == "emergency", seen


def test_refused_booking_confirmation_never_resent_is_not_in_the_queue(app, staff, database, db_url):  # noqa: F811
    sender = f"refused-book-{uuid.uuid4().hex}"
    stored = stored_turns(["book please", "Jane Testperson", "312 555 0142", "tuesday 10am", "leg jerks at night"])
    store(db_url, sender, stored)
    before = shown(db_url, sender)["new_appointments"]

    def booking(evts):
        return make_tracker(slots=dict(BOOKING), active_loop="booking_form", events=evts, sender_id=sender)

    run(ActionSubmitBookingForm(), booking(attempt(stored, "yes", 1_700_000_100.0)))
    [request_id] = row_ids(db_url, AppointmentRequest, sender)  # kept

    seen = shown(db_url, sender)
    assert seen["appointments"] == [] and seen["new_appointments"] == before, seen
    assert staff.get("/appointments?status=all").status_code == 200
    assert request_id not in audit_rows(db_url, "appointments_view")[-1].detail["shown"]

    # Resent and stored this time: the same request, now shown, once.
    resent = attempt(stored, "yes", 1_700_000_160.0)
    run(ActionSubmitBookingForm(), booking(resent))
    store(db_url, sender, resent[len(stored):])
    assert row_ids(db_url, AppointmentRequest, sender) == [request_id]
    seen = shown(db_url, sender)
    assert seen["appointments"] == [request_id] and seen["new_appointments"] == before + 1, seen
    assert staff.get("/appointments?status=all").status_code == 200
    assert audit_rows(db_url, "appointments_view")[-1].detail["shown"] == [request_id]
