"""The summary table the list reads: incremental, idempotent, and blind to commit order."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

import bot.db as db
from bot.db.models import ConversationSummary, ConversationText
from bot.db.tracker import events
from console import conversations as conv
from console import demo
from tests.console.helpers import NOW


def _summary(db_url: str, cid: str) -> ConversationSummary | None:
    with db.session_scope(db_url, write=False) as s:
        row = s.get(ConversationSummary, cid)
        if row is not None:
            s.expunge(row)
        return row


def _user_event(sender: str, ts: float, text: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    data = {
        "event": "user",
        "timestamp": ts,
        "text": text,
        "parse_data": {"intent": {"name": "inform"}, "entities": []},
        "input_channel": "rest",
    }
    return {
        "sender_id": sender,
        "type_name": "user",
        "timestamp": ts,
        "intent_name": "inform",
        "action_name": None,
        "data": json.dumps(data),
        **extra,
    }


def test_new_events_update_an_existing_summary(db_url, db_connection) -> None:
    start = NOW - timedelta(hours=1)
    demo.insert_events(db_connection, demo.conversation_events("s1", start, demo.SCENARIOS[4], "rest"))
    assert conv.sync_summaries(db_url) == 1
    first = _summary(db_url, "s1")
    assert first.triage_level is None and first.message_count == 6 and first.channel == "rest"
    assert conv.sync_summaries(db_url) == 0  # nothing new: nothing done
    later = demo.conversation_events("s1", NOW, demo.SCENARIOS[0], "rest")
    demo.insert_events(db_connection, later)
    conv.sync_summaries(db_url)
    second = _summary(db_url, "s1")
    assert second.ref == first.ref  # URLs stay valid
    assert second.triage_level == "emergency" and second.rule_ids == ",SS-HUNTER,COMBO-HIGH-OPIOID,"
    assert second.message_count == 10 and second.last_at > first.last_at and second.first_at == first.first_at
    with db.session_scope(db_url, write=False) as s:
        text = s.get(ConversationText, "s1")
        assert "zoloft" in text.text
        # the search text carries the summary's level (the list's search by level reads it there)
        assert text.level_rank == second.level_rank == 3


def test_the_search_text_follows_the_conversations_level(db_url, db_connection) -> None:
    """The level kept on the search text (migration 0015) is the summary's, whatever order the
    conversations' levels came in, and a search by level finds each conversation under its own."""
    start = NOW - timedelta(hours=2)
    for i, scenario in enumerate(demo.SCENARIOS):
        demo.insert_events(
            db_connection, demo.conversation_events(f"lv{i}", start + timedelta(minutes=i), scenario, "rest")
        )
    conv.sync_summaries(db_url)
    # lv4 (no level) turns urgent, lv2 (routine) turns emergency
    demo.insert_events(db_connection, demo.conversation_events("lv4", NOW, demo.SCENARIOS[1], "rest"))
    demo.insert_events(db_connection, demo.conversation_events("lv2", NOW, demo.SCENARIOS[0], "rest"))
    conv.sync_summaries(db_url)
    with db.session_scope(db_url, write=False) as s:
        pairs = s.execute(
            sa.select(ConversationSummary.conversation_id, ConversationSummary.level_rank, ConversationText.level_rank)
            .join(ConversationText, ConversationText.conversation_id == ConversationSummary.conversation_id)
            .where(ConversationSummary.conversation_id.like("lv%"))
        ).all()
        assert len(pairs) == len(demo.SCENARIOS)
        assert all(summary == text for _cid, summary, text in pairs), pairs
        assert dict((cid, rank) for cid, rank, _ in pairs)["lv2"] == 3
        assert dict((cid, rank) for cid, rank, _ in pairs)["lv4"] == 2
        listed = conv.list_conversations(s, conv.Filters(q="phenelzine"), NOW.tzinfo)  # MAOI: urgent
        assert [r.conversation_id for r in listed.rows] == ["lv4", "lv1"]  # unreviewed urgent, newest first
        assert [r.conversation_id for r in conv.list_conversations(s, conv.Filters(q="tramadol"), NOW.tzinfo).rows] == [
            "lv2",
            "lv0",
        ]


def test_an_event_that_appears_late_with_a_lower_id_is_not_lost(db_url, db_connection) -> None:
    t = NOW.timestamp()
    db_connection.execute(events.insert(), [_user_event("late", t, "first message")])
    conv.sync_summaries(db_url)
    top = db_connection.execute(sa.select(sa.func.max(events.c.id))).scalar_one()
    # another conversation moves the mark on (explicit ids leave a gap, as a slow transaction does) ...
    db_connection.execute(events.insert(), [_user_event("other", t + 1, "hello", id=top + 2 + i) for i in range(3)])
    conv.sync_summaries(db_url)
    # ... then a row with an id below the mark becomes visible (a transaction that committed late)
    db_connection.execute(events.insert(), [_user_event("late", t + 2, "committed late", id=top + 1)])
    db_connection.execute(events.insert(), [_user_event("other", t + 3, "and something new", id=top + 5)])
    conv.sync_summaries(db_url)
    assert _summary(db_url, "late").message_count == 2


def test_assessments_raise_the_level(db_url, db_connection) -> None:
    demo.insert_events(db_connection, demo.conversation_events("s2", NOW, demo.SCENARIOS[4], "socketio"))
    conv.sync_summaries(db_url)
    db.record_assessment("s2", "urgent", ["RX-BACLOFEN-STOP"], ["Stopped baclofen suddenly."], [], url=db_url)
    conv.sync_summaries(db_url)
    row = _summary(db_url, "s2")
    assert row.triage_level == "urgent" and row.rule_ids == ",RX-BACLOFEN-STOP,"
