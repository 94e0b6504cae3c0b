"""Benchmark of the assistant: training time, NLU parse latency, turn latency over the dev channel, server memory.

    .venv/bin/python benchmarks/bench_rasa.py [--conversations 20] [--retrain]

Prints the figures; nothing here is asserted by the tests. Starts the real action server and Rasa
server on free ports against a throwaway SQLite database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.stack import Stack  # noqa: E402

PARSE_MESSAGES = [
    "hi", "what is clonus", "my dad's foot won't stop bouncing", "I'm on zoloft and started tramadol",
    "i want to book an appointment", "can i talk to a nurse", "my legs keep jerking and im sweating buckets",
    "does baclofen make you sleepy", "nah", "yep", "what causes it", "is heat good for spasms",
]
CONVERSATION = [
    "hello", "what is clonus", "how is it treated", "i want to book an appointment", "Jamie Example",
    "(312) 555-0142", "next tuesday at 10am", "ankle jerking", "yes", "thanks",
]


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def rss_kib(pid: int) -> int:
    """Current resident memory of a process and its children, in KiB (Linux /proc)."""
    total = 0
    pids = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(c) for c in children]
    except FileNotFoundError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--retrain", action="store_true", help="train into a fresh directory to time training")
    args = parser.parse_args()

    env = dict(os.environ, SQLALCHEMY_SILENCE_UBER_WARNING="1", TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0")
    if args.retrain:
        out = Path(tempfile.mkdtemp(prefix="bench-models-"))
        # An empty training cache, or Rasa reuses every unchanged component and times nothing.
        cold = dict(env, RASA_CACHE_DIRECTORY=str(out / "cache"))
        start = time.perf_counter()
        subprocess.run([str(ROOT / ".venv/bin/rasa"), "train", "--out", str(out), "--quiet"], cwd=ROOT, env=cold, check=True)
        print(f"training time: {time.perf_counter() - start:.1f} s (full, from scratch)")
        model = sorted(out.glob("*.tar.gz"))[-1]
    else:
        subprocess.run([str(ROOT / "scripts/train.sh")], cwd=ROOT, env=env, check=True)
        model = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)[-1]

    workdir = Path(tempfile.mkdtemp(prefix="bench-db-"))
    stack = Stack(model=model, database_url=f"sqlite:///{workdir / 'bench.sqlite3'}").start()
    peak = {"rss": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["rss"] = max(peak["rss"], rss_kib(stack.procs[1].pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        parse = []
        for _ in range(10):
            for text in PARSE_MESSAGES:
                t0 = time.perf_counter()
                requests.post(f"{stack.rasa_url}/model/parse", params={"token": stack.auth_token}, json={"text": text}, timeout=30).raise_for_status()
                parse.append((time.perf_counter() - t0) * 1000)
        print(f"NLU parse latency over {len(parse)} calls: p50 {pct(parse, 50):.1f} ms, p95 {pct(parse, 95):.1f} ms")

        turns = []
        start = time.perf_counter()
        for _ in range(args.conversations):
            sender = f"bench-{uuid.uuid4().hex[:8]}"
            for text in CONVERSATION:
                t0 = time.perf_counter()
                stack.say(sender, text)
                turns.append((time.perf_counter() - t0) * 1000)
        elapsed = time.perf_counter() - start
        print(
            f"dev-channel turn latency over {len(turns)} turns ({args.conversations} conversations of {len(CONVERSATION)}): "
            f"p50 {pct(turns, 50):.1f} ms, p95 {pct(turns, 95):.1f} ms, mean {statistics.mean(turns):.1f} ms; "
            f"{len(turns) / elapsed:.1f} turns/s sequential"
        )
    finally:
        stop.set()
        sampler.join()
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"peak memory of the Rasa server: {peak['rss'] / 1024:.0f} MiB RSS")


if __name__ == "__main__":
    main()
