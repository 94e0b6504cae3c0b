"""Events reach the event broker only after the turn was stored (rasa_ext.tracker_store), on the
tracker store class the cluster runs, against real PostgreSQL and SQLite (db_url fixture)."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_ext.tracker_store import DatabaseUrlTrackerStore, TrackerStoreUnavailable


class RecordingBroker(EventBroker):
    """Records each published event with the number of stored rows of its conversation at that moment."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.published = []

    def publish(self, event, headers=None) -> None:
        with self.engine.connect() as conn:
            stored = conn.execute(
                sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": event["sender_id"]}
            ).scalar()
        self.published.append((event["event"], stored))

    def is_ready(self) -> bool:
        return True


def turn(tracker: DialogueStateTracker, text: str) -> None:
    tracker.update(UserUttered(text, intent={"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered("hello"))
    tracker.update(ActionExecuted("action_listen"))


@pytest.fixture
def store_and_broker(fresh_db_url, request):
    url = fresh_db_url(request.param)
    broker = RecordingBroker(url)
    store = DatabaseUrlTrackerStore(host=url, event_broker=broker)
    yield store, broker
    store.engine.dispose()
    broker.engine.dispose()


@pytest.mark.parametrize("store_and_broker", ["sqlite", "postgresql"], indirect=True)
def test_events_are_published_after_they_are_stored(store_and_broker):
    store, broker = store_and_broker
    tracker = DialogueStateTracker("conv-publish-1", slots=[])
    turn(tracker, "hi")
    asyncio.run(store.save(tracker))
    assert [e for e, _ in broker.published] == ["user", "action", "bot", "action"]
    # every event was in the database when it was published: the whole turn (4 rows) was committed
    assert all(stored == 4 for _, stored in broker.published), broker.published

    turn(tracker, "again")
    asyncio.run(store.save(tracker))
    assert len(broker.published) == 8, "only the new turn's events are published"
    assert all(stored == 8 for _, stored in broker.published[4:])


@pytest.mark.parametrize("store_and_broker", ["sqlite", "postgresql"], indirect=True)
def test_a_turn_the_database_refused_is_not_published(store_and_broker, monkeypatch):
    store, broker = store_and_broker
    tracker = DialogueStateTracker("conv-publish-2", slots=[])
    turn(tracker, "hi")

    def refused(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(store, "_additional_events", refused)
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(store.save(tracker))
    assert broker.published == []

    monkeypatch.undo()
    asyncio.run(store.save(tracker))  # the resend, once the database is back: published once
    assert [e for e, _ in broker.published] == ["user", "action", "bot", "action"]
