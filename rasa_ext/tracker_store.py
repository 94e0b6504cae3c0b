"""Rasa's SQL tracker store, pointed at the database named by DATABASE_URL, that never loses a
turn silently.

Rasa's own SQLTrackerStore wants dialect, host, port... as separate settings; the rest of the
project (actions, console, migrations) uses one SQLAlchemy URL. This keeps one setting for all.

A save or retrieve that fails raises TrackerStoreUnavailable (Rasa's FailSafeTrackerStore, which
would keep the turn in memory only or start an empty conversation, re-raises it: see
rasa_ext/resilience.py), so the channel answers 503 with the fail-safe message instead of
answering as if the turn were stored. The engine hides SQL parameters from its logs and error
messages (they hold message texts and phone numbers), checks pooled connections before use (the
database may have restarted) and gives up quickly when the database does not answer
(CLONUS_DB_TIMEOUT seconds, default 2), so a database outage cannot stall every conversation.
An SQLite file is kept readable by its owner only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerEventDiffEngine, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.db import sqlite_opener
from bot.decision import SLOT as DECISION_SLOT
from bot.settings import database_url, db_timeout
from rasa_ext import resilience, unsaved_decisions

logger = logging.getLogger(__name__)

_probe_pool: Optional[ThreadPoolExecutor] = None
_probe_pool_lock = threading.Lock()


def probe_threads() -> int:
    """CLONUS_DB_PROBE_THREADS (default 64): how many turns may wait on a locked SQLite file at once."""
    try:
        value = int(os.environ.get("CLONUS_DB_PROBE_THREADS", "") or 64)
    except ValueError:
        value = 64
    return max(1, value)


def probe_executor() -> ThreadPoolExecutor:
    """The threads the write-lock probe waits in: its own pool, not asyncio's default one.

    The default executor has min(32, cores + 4) threads (6 on two cores) and also runs the
    channels' fail-safe screen (rasa_ext.channels.failsafe_turn): with more turns waiting on a
    locked file than it has threads, the waits were served in waves of CLONUS_DB_TIMEOUT and the
    fail-safe screens queued behind them, past their own time limit (an emergency then got only
    the trouble notice). Threads are started only when needed."""
    global _probe_pool
    if _probe_pool is None:
        with _probe_pool_lock:
            if _probe_pool is None:
                _probe_pool = ThreadPoolExecutor(max_workers=probe_threads(), thread_name_prefix="clonus-db-probe")
    return _probe_pool


class TrackerStoreUnavailable(RasaException):
    """The conversation could not be read or stored: the turn must not be answered as if it were."""


def engine_options(url: str) -> Dict[str, Any]:
    options: Dict[str, Any] = dict(create_engine_kwargs(url))
    options.update(hide_parameters=True, pool_pre_ping=True)
    backend = sa.engine.make_url(url).get_backend_name()
    if backend == "sqlite":
        options["connect_args"] = {**options.get("connect_args", {}), "timeout": db_timeout()}
    elif backend == "postgresql":
        connect_args = dict(options.get("connect_args", {}))
        connect_args["connect_timeout"] = max(1, int(round(db_timeout())))
        # A statement that waits longer than this (a lock, a dead peer) fails instead of stalling.
        extra = f"-c statement_timeout={int(db_timeout() * 1000)}"
        connect_args["options"] = (connect_args.get("options", "") + " " + extra).strip()
        options["connect_args"] = connect_args
    return options


def restrict_sqlite_file(url: str) -> None:
    """An SQLite database (and its journal) readable and writable by its owner only."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return
    for suffix in ("", "-journal", "-wal", "-shm"):
        path = Path(parsed.database + suffix)
        if path.exists():
            try:
                path.chmod(0o600)
            except OSError:
                logger.warning("could not make the database file readable by its owner only")


class DatabaseUrlTrackerStore(SQLTrackerStore):
    """SQLTrackerStore on `bot.settings.database_url()` (SQLite file by default)."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[str] = None,
        event_broker: Optional[EventBroker] = None,
        **kwargs: Any,
    ) -> None:
        url = host or database_url()
        restrict_sqlite_file(url)
        # SQLTrackerStore treats a host containing "://" as a complete SQLAlchemy URL.
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
        # Rasa's engine has no options for this: replace it by one that hides SQL parameters.
        self.engine.dispose()
        options = engine_options(url)
        parsed = sa.engine.make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            # The file exists now (Rasa created its tables): later connections never create it
            # again, so a file moved away fails the turn instead of becoming an empty database
            # that discards the real one's write-ahead log.
            options.pop("connect_args", None)
            options["creator"] = sqlite_opener(parsed.database, db_timeout())
        self.engine = sa.create_engine(url, **options)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        restrict_sqlite_file(url)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stores the turn's new events, then (only then) publishes them to the event broker.

        Rasa's SQLTrackerStore.save publishes first (`stream_events`) and writes after: a turn the
        database refused (503, "please send it again") would still reach the broker's consumers,
        and its resend would reach them twice. Here the events to publish are worked out before the
        write (the stored tracker against this one, as Rasa does) and published after the commit.
        The database work runs off the event loop (in `probe_executor()`): a save waiting on a
        locked SQLite file or a PostgreSQL lock (up to CLONUS_DB_TIMEOUT) must not stop every other
        conversation, the channels' fail-safe time limits included. The order of one
        conversation's turns is kept by Rasa's lock store, which holds the conversation until this
        returns.

        A fail-safe emergency told in an earlier turn of this conversation that the database refused
        (rasa_ext.unsaved_decisions) is appended first: its decision record, stored with this turn."""
        late = unsaved_decisions.take(tracker.sender_id)
        for record in late:
            tracker.update(SlotSet(DECISION_SLOT, record), self.domain)
        try:
            new_events = await self._events_to_publish(tracker)
            await asyncio.get_running_loop().run_in_executor(probe_executor(), self._store_new_events, tracker)
        except Exception as exc:  # noqa: BLE001 - every database error means the same to the channel
            unsaved_decisions.put_back(tracker.sender_id, late)
            logger.error("could not store a conversation turn (%s)", type(exc).__name__)
            raise TrackerStoreUnavailable("the conversation could not be stored") from None
        if self.event_broker is not None and new_events:
            try:
                await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
            except Exception as exc:  # noqa: BLE001 - the turn is stored: the consumer catches up from it
                logger.error("could not publish a stored turn's events (%s)", type(exc).__name__)

    async def _events_to_publish(self, tracker: DialogueStateTracker) -> List[Event]:
        if self.event_broker is None:
            return []
        old_tracker = await self.retrieve(tracker.sender_id)
        return list(TrackerEventDiffEngine.event_difference(old_tracker, tracker))

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Not before the write: `save` publishes after it (Rasa's save calls this first)."""
        return None

    def _store_new_events(self, tracker: DialogueStateTracker) -> None:
        """The database half of SQLTrackerStore.save (Rasa 3.6), unchanged, run in a thread."""
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()

    def _probe_writable(self) -> None:
        """SQLite: take the write lock and give it back. Readers are never blocked under WAL, so a
        database that another process has locked (or a read-only file) reads fine and only fails
        when the turn is saved, after the actions ran and waited for it too. The probe refuses
        the turn at its start instead, within CLONUS_DB_TIMEOUT."""
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute("ROLLBACK")
            cursor.close()
        finally:
            raw.close()

    def _read(self, sender_id: Text, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        """SQLTrackerStore._retrieve (Rasa 3.6), after the SQLite write-lock probe, run in a thread."""
        if self.engine.dialect.name == "sqlite":
            self._probe_writable()
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions).all()
            events = [json.loads(row.data) for row in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        try:
            # Off the event loop: a turn waiting on a locked file (or a database that does not
            # answer) must not hold up the others. Its own threads: every waiting turn waits at
            # once, each for CLONUS_DB_TIMEOUT at most.
            return await asyncio.get_running_loop().run_in_executor(
                probe_executor(), self._read, sender_id, fetch_events_from_all_sessions
            )
        except Exception as exc:  # noqa: BLE001 - every database error means the same to the channel
            logger.error("could not read a conversation (%s)", type(exc).__name__)
            raise TrackerStoreUnavailable("the conversation could not be read") from None


# The Rasa server re-raises tracker store errors instead of hiding them (see resilience.py); last,
# because resilience imports TrackerStoreUnavailable from here.
resilience.install()
