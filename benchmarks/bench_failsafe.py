"""Benchmark of the fail-safe path: how long an emergency takes to be answered when the action
server is stopped, frozen (accepts connections, never answers) or up, and when the SQLite database
is locked by another process (the answer is then the 503 with the emergency message), over the
dev channel, on a new conversation and on one that already has a turn.

    .venv/bin/python benchmarks/bench_failsafe.py [--conversations 10] [--concurrent 20] [--only-concurrent]

Prints p50/p95/max per condition (the target is 2 s); nothing here is asserted by the tests.
`--concurrent N`: N turns sent at once (half the emergency text, half an ordinary question) while
the SQLite database is locked, on new and on existing conversations: p50/p95/max answer time and
how many were answered with the fail-safe notice ("could not be saved") and the number to call
(the emergency message too for the emergency texts). The load average is printed before and after
(the figures mean little on a busy machine).
Starts the real action server and Rasa server on free ports against a throwaway SQLite database.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.settings import clinic  # noqa: E402
from tests.conftest import newest_model  # noqa: E402
from tests.e2e.stack import Stack, texts  # noqa: E402
from tests.security.server_helpers import (  # noqa: E402
    EMERGENCY_TEXT,
    freeze_action_server,
    is_emergency,
    is_failsafe,
    sqlite_locked,
    talk,
    thaw_action_server,
)


def measure(stack: Stack, n: int, greet_first: bool, during=contextlib.nullcontext) -> list:
    """Seconds until the answer to the emergency text, `n` conversations; `during()` is the
    condition (entered after the greeting, left after the answer)."""
    times = []
    for _ in range(n):
        who = "bench-" + uuid.uuid4().hex
        if greet_first:
            talk(stack, who, "hello", timeout=30)
        with during():
            start = time.monotonic()
            reply = talk(stack, who, EMERGENCY_TEXT, timeout=30)
            times.append(time.monotonic() - start)
        if not is_emergency(reply):
            print("NOT AN EMERGENCY ANSWER:", reply)
    return times


ORDINARY_TEXT = "what about my medicines?"


def measure_concurrent(stack: Stack, db: Path, n: int, greet_first: bool) -> tuple:
    """`n` turns sent at once while the database is locked: their answer times, and how many were
    answered as they must be (the fail-safe notice saying the message was not saved, with the
    number to call; the emergency message as well for an emergency text)."""
    whos = ["bench-" + uuid.uuid4().hex for _ in range(n)]
    if greet_first:
        for who in whos:
            talk(stack, who, "hello", timeout=60)
    number = clinic().emergency_number
    times: list = [None] * n
    good = [False] * n
    barrier = threading.Barrier(n)

    def one(i: int) -> None:
        text = EMERGENCY_TEXT if i % 2 == 0 else ORDINARY_TEXT
        barrier.wait()
        start = time.monotonic()
        try:
            reply = talk(stack, whos[i], text, timeout=60)
        except Exception as exc:  # noqa: BLE001 - counted as a wrong answer
            print("turn failed:", type(exc).__name__)
            reply = []
        times[i] = time.monotonic() - start
        said = texts(reply)
        good[i] = (
            is_failsafe(reply)
            and "could not be saved" in said
            and number in said
            and (is_emergency(reply) if text == EMERGENCY_TEXT else True)
        )

    with sqlite_locked(db):
        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return times, sum(good)


def report(name: str, times: list) -> None:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    print(f"{name:32s} n={len(times):3d} p50={statistics.median(times):.2f}s p95={p95:.2f}s max={times[-1]:.2f}s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--concurrent", type=int, default=20, help="turns sent at once on a locked database (0: none)")
    parser.add_argument("--only-concurrent", action="store_true", help="measure only the concurrent turns")
    args = parser.parse_args()
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg())
    db = Path(tempfile.mkdtemp(prefix="bench-failsafe-")) / "clonus.sqlite3"
    stack = Stack(model=newest_model(), database_url=f"sqlite:///{db}").start()
    try:
        talk(stack, "warm-" + uuid.uuid4().hex, EMERGENCY_TEXT, timeout=60)
        if args.concurrent:
            for greet, kind in ((False, "new"), (True, "existing")):
                times, good = measure_concurrent(stack, db, args.concurrent, greet)
                report(f"db locked, {args.concurrent} at once, {kind}", times)
                print(f"{'':32s} answered with the notice and the number: {good}/{args.concurrent}")
        if args.only_concurrent:
            return
        report("action server up", measure(stack, args.conversations, True))
        for greet, kind in ((False, "new"), (True, "existing")):
            freeze_action_server(stack)
            try:
                report(f"action server frozen, {kind}", measure(stack, args.conversations, greet))
            finally:
                thaw_action_server(stack)
            stack.stop_action_server()
            try:
                report(f"action server stopped, {kind}", measure(stack, args.conversations, greet))
            finally:
                stack.start_action_server()
            report(f"database locked, {kind}", measure(stack, args.conversations, greet, lambda: sqlite_locked(db)))
    finally:
        stack.stop()
        print("load average at end: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
