"""Outside test of issue 8's last change, finding 5 (found by benchmarks/bench_failsafe.py
--concurrent): many turns waiting on a locked SQLite file at once.

Each turn's write-lock probe (rasa_ext.tracker_store, run off the event loop) waits up to
CLONUS_DB_TIMEOUT. In asyncio's default executor (min(32, cores + 4) threads: 6 on two cores) the
waits were served in waves, so the k-th turn waited k/6 timeouts, and the channels' fail-safe
screen, which runs in the same executor, queued behind them past its own time limit. Here every
probe of N > default-executor-size concurrent turns must be waiting before the first one gives
up (a check of concurrency, not of speed), and each turn is refused with TrackerStoreUnavailable.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time

import pytest
from rasa.shared.core.domain import Domain

from rasa_ext import tracker_store as ts
from tests.security.server_helpers import sqlite_locked


def test_turns_waiting_on_a_locked_file_all_wait_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("CLONUS_DB_TIMEOUT", "1")
    db_file = tmp_path / "clonus.sqlite3"
    sqlite3.connect(str(db_file)).close()
    store = ts.DatabaseUrlTrackerStore(domain=Domain.empty(), host=f"sqlite:///{db_file}")
    default_threads = min(32, (os.cpu_count() or 1) + 4)
    n = 2 * default_threads + 2
    started: list = []
    finished: list = []
    lock = threading.Lock()
    probe = store._probe_writable

    def recorded_probe() -> None:
        with lock:
            started.append(time.monotonic())
        try:
            probe()
        finally:
            with lock:
                finished.append(time.monotonic())

    monkeypatch.setattr(store, "_probe_writable", recorded_probe)

    async def turns() -> list:
        return await asyncio.gather(*(store._retrieve(f"c-{i}", False) for i in range(n)), return_exceptions=True)

    with sqlite_locked(db_file):
        results = asyncio.run(turns())
    assert all(isinstance(r, ts.TrackerStoreUnavailable) for r in results), results
    assert len(started) == n
    # Every probe started before the first gave up: nobody waited for a free thread.
    assert max(started) < min(finished), f"{sum(s >= min(finished) for s in started)} of {n} probes waited for a thread"
    store.engine.dispose()


@pytest.mark.parametrize("value, expected", [("", 64), ("8", 8), ("0", 1), ("x", 64)])
def test_probe_threads_setting(monkeypatch, value, expected):
    monkeypatch.setenv("CLONUS_DB_PROBE_THREADS", value)
    assert ts.probe_threads() == expected


def test_a_save_waiting_on_a_lock_leaves_the_event_loop_running(tmp_path, monkeypatch):
    """Issue 8: Rasa's SQLTrackerStore.save does its database work on the event loop. While the
    SQLite file is locked it waited there (the busy timeout, up to CLONUS_DB_TIMEOUT), so no other
    conversation was read, answered or timed out meanwhile. A real lock from another connection,
    held for less than the timeout: the save waits for it and succeeds, and the event loop keeps
    running during the wait (another conversation's save too)."""
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    monkeypatch.setenv("CLONUS_DB_TIMEOUT", "5")
    db_file = tmp_path / "clonus.sqlite3"
    sqlite3.connect(str(db_file)).close()
    store = ts.DatabaseUrlTrackerStore(domain=Domain.empty(), host=f"sqlite:///{db_file}")
    hold = 1.5

    def tracker(sender: str) -> DialogueStateTracker:
        return DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen"), UserUttered("hello")])

    locked, release = threading.Event(), threading.Event()

    def locker() -> None:
        with sqlite_locked(db_file):
            locked.set()
            release.wait(hold)

    async def scenario() -> tuple:
        beats: list = []
        running = True

        async def heartbeat() -> None:
            while running:
                beats.append(time.monotonic())
                await asyncio.sleep(0.02)

        beat = asyncio.create_task(heartbeat())
        thread = threading.Thread(target=locker, daemon=True)
        thread.start()
        assert await asyncio.get_running_loop().run_in_executor(None, locked.wait, 10)
        start = time.monotonic()
        first = asyncio.create_task(store.save(tracker("conversation-a")))
        await asyncio.sleep(0.2)
        second = asyncio.create_task(store.save(tracker("conversation-b")))
        await asyncio.gather(first, second)
        waited = time.monotonic() - start
        running = False
        await beat
        thread.join()
        during = [b for b in beats if start <= b <= start + waited]
        gaps = [b - a for a, b in zip(during, during[1:], strict=False)]
        return waited, max(gaps) if gaps else waited

    waited, longest_gap = asyncio.run(scenario())
    assert waited >= hold - 0.1, f"the saves did not wait for the lock ({waited:.2f} s)"
    assert longest_gap < 0.5, f"the event loop stood still for {longest_gap:.2f} s while a save waited on the lock"
    stored = sqlite3.connect(str(db_file)).execute("SELECT DISTINCT sender_id FROM events ORDER BY 1").fetchall()
    assert stored == [("conversation-a",), ("conversation-b",)]
    store.engine.dispose()
