"""Benchmark of the fail-safe path: how long an emergency takes to be answered when the action
server is stopped, frozen (accepts connections, never answers) or up, and when the SQLite database
is locked by another process (the answer is then the 503 with the emergency message), over the
dev channel, on a new conversation and on one that already has a turn.

    .venv/bin/python benchmarks/bench_failsafe.py [--conversations 10]

Prints p50/p95/max per condition (the target is 2 s); nothing here is asserted by the tests.
Starts the real action server and Rasa server on free ports against a throwaway SQLite database.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import newest_model  # noqa: E402
from tests.e2e.stack import Stack  # noqa: E402
from tests.security.server_helpers import (  # noqa: E402
    EMERGENCY_TEXT,
    freeze_action_server,
    is_emergency,
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


def report(name: str, times: list) -> None:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    print(f"{name:32s} n={len(times):3d} p50={statistics.median(times):.2f}s p95={p95:.2f}s max={times[-1]:.2f}s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=10)
    args = parser.parse_args()
    db = Path(tempfile.mkdtemp(prefix="bench-failsafe-")) / "clonus.sqlite3"
    stack = Stack(model=newest_model(), database_url=f"sqlite:///{db}").start()
    try:
        talk(stack, "warm-" + uuid.uuid4().hex, EMERGENCY_TEXT, timeout=60)
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


if __name__ == "__main__":
    main()
