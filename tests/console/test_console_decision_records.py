"""Issue 10: one stored record per triage decision, which the console reads.

A decision is the `triage_decision` slot event (bot.decision) that the action (or the Rasa
server's fail-safe, when the action server is down) puts on the tracker; the real tracker store
stores it with its turn, the console consumer's pass (catch_up) brings the summaries up to date,
and staff read the transcript and the list through the real console. Before records, the console
merged `triage_level` slot events and `clonus_triage_assessment` rows and showed a decision twice
(three times after a new session copied the slots); a fail-safe 911 turn showed as an unmarked
slot change.

Real Rasa trackers and events, the real actions (rasa_sdk trackers in the Rasa server's shape),
`rasa_ext.resilience.FailsafeRemoteAction` against a port where nothing listens (the action
server is down), `DatabaseUrlTrackerStore` and the console on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from markupsafe import escape
from rasa.core.actions.action import create_bot_utterance
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker

import bot.db as db
from actions.triage import ActionTriage
from bot.db.models import TriageAssessment
from bot.db.tracker import events
from console import auth
from console.app import create_app
from console.consumer import catch_up
from rasa_ext import resilience
from rasa_ext.nlg import ClinicResponseGenerator
from rasa_ext.tracker_store import DatabaseUrlTrackerStore
from tests.action_helpers import run
from tests.conftest import ROOT
from tests.console.helpers import SECRET, UTC, sign_in
from tests.fixtures_db import BACKENDS

EMERGENCY = "I'm on Nardil and my new doctor gave me tramadol for my back, now I'm sweaty and my legs keep jerking"
URGENT = "I stopped my baclofen suddenly two days ago and now my legs are jerking a lot more"


@pytest.fixture(scope="module", params=BACKENDS)
def url(request, clonus_databases):  # type: ignore[no-untyped-def]
    """This module's own database: the tracker store and the actions commit real rows."""
    return clonus_databases.new(request.param)


@pytest.fixture
def env(url: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("DATABASE_URL", url)  # the actions' writes (bot.db) go there
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    app = create_app(database_url=url, secret_key=SECRET, cookie_secure=True, timezone_=UTC)
    app.config.update(TESTING=False, PREFERRED_URL_SCHEME="https")
    name = f"staff.{uuid.uuid4().hex[:8]}"
    with db.session_scope(url) as s:
        auth.create_user(s, name, "a long test passphrase", "staff")
    client = app.test_client()
    assert sign_in(client, name, "a long test passphrase").status_code == 302
    domain = Domain.load(str(ROOT / "domain.yml"))
    return {"client": client, "domain": domain, "store": DatabaseUrlTrackerStore(domain=domain, host=url)}


def _new_tracker(domain: Domain) -> DialogueStateTracker:
    return DialogueStateTracker(f"rec-{uuid.uuid4().hex[:12]}", domain.slots)


def _say(tracker: DialogueStateTracker, domain: Domain, text: str, intent: str = "report_symptom") -> None:
    tracker.update(ActionExecuted("action_listen"), domain)
    tracker.update(
        UserUttered(text, {"name": intent, "confidence": 0.99}, [], message_id=uuid.uuid4().hex, input_channel="dev"),
        domain,
    )


def _log(tracker: DialogueStateTracker, domain: Domain, name: str, evts: list) -> None:
    """What the Rasa server's processor does with an action's result: ActionExecuted, then the
    events, each stamped now (MessageProcessor._log_action_on_tracker)."""
    tracker.update(ActionExecuted(name), domain)
    for e in evts:
        e.timestamp = time.time()
        tracker.update(e, domain)


def _run_action(tracker: DialogueStateTracker, domain: Domain, action: Any) -> None:
    """A custom action on the action server, its answer logged as the Rasa server logs it."""
    sdk = Tracker.from_dict(tracker.current_state(EventVerbosity.ALL))
    dispatcher, returned = run(action, sdk)
    bot = [create_bot_utterance({**m, "data": {"custom": m.get("custom")}}) for m in dispatcher.messages]
    _log(tracker, domain, action.name(), bot + deserialise_events(returned))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_failsafe(tracker: DialogueStateTracker, domain: Domain) -> None:
    """action_triage with the action server down: the Rasa server answers by itself."""
    action = resilience.FailsafeRemoteAction("action_triage", EndpointConfig(url=f"http://127.0.0.1:{_closed_port()}/webhook"))
    evts = asyncio.run(action.run(CollectingOutputChannel(), ClinicResponseGenerator(domain=domain), tracker, domain))
    _log(tracker, domain, "action_triage", evts)


def _save(env: dict, tracker: DialogueStateTracker, url: str) -> None:
    asyncio.run(env["store"].save(tracker))
    catch_up(url)  # the console consumer's pass


def _ref(client: Any, sender: str, url: str) -> str:
    with db.session_scope(url, write=False) as s:
        from bot.db.models import ConversationSummary

        return s.execute(sa.select(ConversationSummary.ref).where(ConversationSummary.conversation_id == sender)).scalar_one()


def _decisions(html: str) -> list[str]:
    """Each decision's list item (it holds a list of reasons: up to the next item of the transcript)."""
    return re.findall(r'<li class="decision.*?(?=<li class="(?:msg|decision|session|muted)|</ol>)', html, flags=re.S)


def _stored_records(url: str, sender: str) -> list[dict]:
    """The decision records among the conversation's stored events, read straight from `events`."""
    with db.session_scope(url, write=False) as s:
        rows = s.execute(
            sa.select(events.c.data).where(events.c.sender_id == sender, events.c.type_name == "slot").order_by(events.c.id)
        ).scalars()
        values = [json.loads(d) for d in rows]
    out: dict[str, dict] = {}
    for v in values:
        if v.get("name") == "triage_decision" and isinstance(v.get("value"), dict):
            out.setdefault(v["value"]["id"], v["value"])
    return list(out.values())


def _list_level(client: Any, ref: str) -> str:
    html = client.get("/conversations").text
    row = [r for r in re.findall(r"<tr.*?</tr>", html, flags=re.S) if f"/conversations/{ref}" in r][0]
    return re.search(r'class="badge lvl-([a-z_]+)"', row).group(1)


def test_an_actions_decision_is_shown_once_in_place_and_after_a_new_session(env, url) -> None:
    domain, client = env["domain"], env["client"]
    tracker = _new_tracker(domain)
    _say(tracker, domain, EMERGENCY)
    _run_action(tracker, domain, ActionTriage())
    _say(tracker, domain, "ok thank you", intent="thankyou")
    _save(env, tracker, url)

    [record] = _stored_records(url, tracker.sender_id)
    assert record["level"] == "emergency" and record["source"] == "action" and record["rule_ids"]
    assert record["turn"] == [e for e in tracker.events if isinstance(e, UserUttered)][0].message_id
    ref = _ref(client, tracker.sender_id, url)
    html = client.get(f"/conversations/{ref}").text
    [shown] = _decisions(html)  # once: not again as a slot change nor as the triage table's row
    assert "lvl-emergency" in shown and "fail-safe" not in shown
    for rule in record["rule_ids"]:
        assert f'<code class="rule">{rule}</code>' in shown
    assert record["reasons"] and all(str(escape(reason)) in shown for reason in record["reasons"]), shown
    assert "tramadol" in shown  # the medicines read
    # in place: after the message it answers, before the next one
    assert html.index("tramadol for my back") < html.index(shown) < html.index("ok thank you")
    # its projection row: one, the same record
    with db.session_scope(url, write=False) as s:
        rows = s.execute(sa.select(TriageAssessment).where(TriageAssessment.conversation_id == tracker.sender_id)).scalars().all()
        assert [(r.decision_id, r.level, r.source) for r in rows] == [(record["id"], "emergency", "action")]

    # A new session copies the slots (the record among them): still one decision.
    evts = asyncio.run(resilience.session_start_events(CollectingOutputChannel(), ClinicResponseGenerator(domain=domain), tracker))
    _log(tracker, domain, "action_session_start", evts)
    _say(tracker, domain, "hello again", intent="greet")
    _save(env, tracker, url)
    assert len(_decisions(client.get(f"/conversations/{ref}").text)) == 1
    assert _list_level(client, ref) == "emergency"


def test_a_failsafe_emergency_is_a_decision_staff_see(env, url) -> None:
    domain, client = env["domain"], env["client"]
    tracker = _new_tracker(domain)
    _say(tracker, domain, EMERGENCY)
    _run_failsafe(tracker, domain)
    told = [e for e in tracker.events if e.type_name == "bot"]
    assert any((e.data.get("custom") or {}).get("emergency") for e in told)  # the person was told to call 911
    _save(env, tracker, url)

    [record] = _stored_records(url, tracker.sender_id)
    assert record["source"] == "failsafe" and record["level"] == "emergency" and record["rule_ids"]
    ref = _ref(client, tracker.sender_id, url)
    [shown] = _decisions(client.get(f"/conversations/{ref}").text)
    assert "told by the fail-safe" in shown and "lvl-emergency" in shown
    assert all(f'<code class="rule">{rule}</code>' in shown for rule in record["rule_ids"])
    assert _list_level(client, ref) == "emergency"
    with db.session_scope(url, write=False) as s:  # its row, written by the consumer from the record
        rows = s.execute(sa.select(TriageAssessment).where(TriageAssessment.conversation_id == tracker.sender_id)).scalars().all()
        assert [(r.decision_id, r.source, r.level) for r in rows] == [(record["id"], "failsafe", "emergency")]
    catch_up(url)  # the consumer again: nothing is written twice
    with db.session_scope(url, write=False) as s:
        n = s.execute(
            sa.select(sa.func.count()).select_from(TriageAssessment).where(TriageAssessment.conversation_id == tracker.sender_id)
        ).scalar_one()
        assert n == 1


def test_the_list_level_is_the_records_level(env, url) -> None:
    domain, client = env["domain"], env["client"]
    urgent = _new_tracker(domain)
    _say(urgent, domain, URGENT)
    _run_action(urgent, domain, ActionTriage())
    _save(env, urgent, url)
    escalated = _new_tracker(domain)
    _say(escalated, domain, URGENT)
    _run_action(escalated, domain, ActionTriage())
    _say(escalated, domain, EMERGENCY)
    _run_failsafe(escalated, domain)
    _save(env, escalated, url)

    for tracker in (urgent, escalated):
        records = _stored_records(url, tracker.sender_id)
        assert records, tracker.sender_id
        levels = ["self_care", "routine", "urgent", "emergency"]
        expected = max((r["level"] for r in records), key=levels.index)
        ref = _ref(client, tracker.sender_id, url)
        assert _list_level(client, ref) == expected
        assert len(_decisions(client.get(f"/conversations/{ref}").text)) == len(records)
    assert _list_level(client, _ref(client, urgent.sender_id, url)) == "urgent"
    assert [r["source"] for r in _stored_records(url, escalated.sender_id)] == ["action", "failsafe"]


class _DatabaseDown:
    """The database refuses the tracker store's writes while held: on SQLite another connection
    holds the write lock (BEGIN IMMEDIATE); on PostgreSQL another session holds `LOCK TABLE events
    IN EXCLUSIVE MODE` (the save waits and fails at the statement timeout)."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, future=True)

    def __enter__(self) -> "_DatabaseDown":
        self.conn = self.engine.connect()
        if self.engine.dialect.name == "sqlite":
            self.conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            self.conn.exec_driver_sql("BEGIN")
            self.conn.exec_driver_sql("LOCK TABLE events IN EXCLUSIVE MODE")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.conn.exec_driver_sql("ROLLBACK")
        self.conn.close()
        self.engine.dispose()


def test_a_failsafe_emergency_told_while_the_database_was_down_is_recorded_once_it_is_back(
    env, url, monkeypatch
) -> None:
    from rasa_ext.channels import failsafe_turn
    from rasa_ext.tracker_store import TrackerStoreUnavailable

    monkeypatch.setenv("CLONUS_DB_TIMEOUT", "0.5")
    domain, client = env["domain"], env["client"]
    store = DatabaseUrlTrackerStore(domain=domain, host=url)  # with the short timeout
    sender = f"down-{uuid.uuid4().hex[:12]}"
    refused = DialogueStateTracker(sender, domain.slots)
    _say(refused, domain, EMERGENCY)
    with _DatabaseDown(url):
        with pytest.raises(TrackerStoreUnavailable) as refusal:
            asyncio.run(store.save(refused))
        # what the channel answers (503): the emergency with the number, "could not be saved"
        told = asyncio.run(failsafe_turn(EMERGENCY, refusal.value, sender))
        assert (told[0].get("custom") or {}).get("emergency") and told[-1]["custom"]["saved"] is False

        later = DialogueStateTracker(sender, domain.slots)  # nothing of the refused turn was stored
        _say(later, domain, "hello? is anyone there", intent="greet")
        with pytest.raises(TrackerStoreUnavailable):
            asyncio.run(store.save(later))  # still down: the record keeps waiting
    later = DialogueStateTracker(sender, domain.slots)
    _say(later, domain, "hello? is anyone there", intent="greet")
    asyncio.run(store.save(later))  # the database is back: the next stored turn carries it
    catch_up(url)

    [record] = _stored_records(url, sender)
    assert record["source"] == "failsafe" and record["level"] == "emergency" and record["told_at"]
    ref = _ref(client, sender, url)
    html = client.get(f"/conversations/{ref}").text
    [shown] = _decisions(html)
    assert "told by the fail-safe" in shown and "database was down" in shown
    assert all(f'<code class="rule">{rule}</code>' in shown for rule in record["rule_ids"])
    assert html.index(shown) < html.index("hello? is anyone there")  # when it was told
    assert "tramadol for my back" not in html  # the refused message itself was never stored
    assert _list_level(client, ref) == "emergency"

    again = asyncio.run(store.retrieve(sender))  # the next turn: the stored conversation goes on
    _say(again, domain, "ok thanks", intent="thankyou")
    asyncio.run(store.save(again))
    catch_up(url)
    assert "ok thanks" in client.get(f"/conversations/{ref}").text
    assert len(_stored_records(url, sender)) == 1  # appended once
    assert len(_decisions(client.get(f"/conversations/{ref}").text)) == 1
