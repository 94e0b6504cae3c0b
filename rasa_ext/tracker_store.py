"""Rasa's SQL tracker store, pointed at the database named by DATABASE_URL.

Rasa's own SQLTrackerStore wants dialect, host, port... as separate settings; the rest of the
project (actions, console, migrations) uses one SQLAlchemy URL. This keeps one setting for all.
"""

from __future__ import annotations

from typing import Any, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain

from bot.settings import database_url


class DatabaseUrlTrackerStore(SQLTrackerStore):
    """SQLTrackerStore on `bot.settings.database_url()` (SQLite file by default)."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[str] = None,
        event_broker: Optional[EventBroker] = None,
        **kwargs: Any,
    ) -> None:
        # SQLTrackerStore treats a host containing "://" as a complete SQLAlchemy URL.
        super().__init__(domain=domain, host=host or database_url(), event_broker=event_broker, **kwargs)
