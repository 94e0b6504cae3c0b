"""Issue 8 item 8: only the Rasa server can call the action server.

A forged `POST /webhook` (here: action_submit_booking_form, which creates an appointment request)
without the shared secret, or with a wrong one, is refused with 403 and runs nothing; the Rasa
server, which sends the secret (endpoints.yml), still runs its actions."""

from __future__ import annotations

import uuid

import pytest
import requests
import sqlalchemy as sa

from tests.e2e.stack import texts

pytestmark = pytest.mark.e2e


def forged_call(sender: str) -> dict:
    slots = {
        "patient_name": "Forged Person", "phone_number": "+13125550177", "preferred_time": "next monday morning",
        "visit_reason": "forged", "booking_confirmed": True,
    }
    return {
        "next_action": "action_submit_booking_form",
        "sender_id": sender,
        "version": "3.6.2",
        "tracker": {
            "sender_id": sender, "slots": slots, "latest_message": {"text": "yes", "intent": {"name": "affirm"}},
            "events": [], "active_loop": {}, "latest_action_name": "action_listen",
        },
        "domain": {},
    }


def appointment_count(database_url: str) -> int:
    engine = sa.create_engine(database_url, future=True)
    try:
        with engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            table = "clonus_appointment_request" if "clonus_appointment_request" in tables else None
            return conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar() if table else 0
    finally:
        engine.dispose()


@pytest.mark.parametrize("headers", [{}, {"X-Clonus-Action-Secret": "wrong-" + uuid.uuid4().hex}])
def test_forged_webhook_is_refused(rasa_stack, headers):
    before = appointment_count(rasa_stack.database_url)
    reply = requests.post(f"{rasa_stack.action_url}/webhook", json=forged_call("f-" + uuid.uuid4().hex), headers=headers, timeout=30)
    assert reply.status_code == 403, reply.text
    assert appointment_count(rasa_stack.database_url) == before


def test_the_rasa_server_still_runs_its_actions(rasa_stack):
    reply = rasa_stack.say("s-" + uuid.uuid4().hex, "I take baclofen")
    assert "baclofen" in texts(reply).lower(), reply
