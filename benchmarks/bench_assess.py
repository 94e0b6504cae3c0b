"""Benchmark of the triage engine: cost per NEW message in a conversation (incremental Assessor),
assess() of whole conversations, recogniser throughput, and the cold start of the command line.

Usage: .venv/bin/python benchmarks/bench_assess.py [--rounds N] [--no-cold]
Figures go in notes, never into timed asserts in tests. Per-message memo caches are cleared before
every message, so the numbers measure the reading of new text, not a lookup of a text seen before.
Target (issue 9): p95 <= 5 ms per new message over 20-message conversations; cold start <= 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot import context, medications, recall, symptoms  # noqa: E402
from bot.recall import embed  # noqa: E402
from bot.triage import Assessor, assess  # noqa: E402

MESSAGES = [
    "hi, I want to book an appointment about my ankle clonus",
    "my husband started tramadol for his back 3 days ago, he is on zoloft too, now his legs keep jerking",
    "I take baclofen 10mg three times a day and gabapentin at night",
    "sometimes when I stretch my calf my foot does a few beats and stops",
    "I was on Paxil years ago but I stopped it, now only sertraline 50mg",
    "my foot shakes when I flex it and I'm sweating buckets, temp of 101F",
    "I have MS and my clonus got way worse over the last two days, no fever",
    "what is clonus? is it dangerous?",
    "tizanidine4mg plus cipro for a UTI, feel a bit dizzy",
    "im on lexapro n took molly last night, jaw clenching and cant sit still",
    "i dont have any sweating or fever or twitching",
    "hypothetically, if I took tramadol with my Effexor would that be bad",
    "they gave my mom zyvox in the hospital... she's on cymbalta... should i worry",
    "no thoughts of hurting myself, I just want to know about the jerks",
    "I'm on zelvorin 20mg and something called Ocrevus",
    "my old meds were prozac and wellbutrin, now just lexapro",
    "thanks, that helps",
    "can I book for next tuesday morning?",
    "also my pump alarm went off this morning",
    "I feel a bit confused and my legs are stiff",
]


def _clear() -> None:
    medications._analyse_cached.cache_clear()
    symptoms._extract_cached.cache_clear()
    context.context.cache_clear()
    recall._propose.cache_clear()  # both readers of the recall layer memoise by text too
    embed._propose.cache_clear()


def _p(samples, q):
    samples = sorted(samples)
    return samples[min(len(samples) - 1, int(round(q * len(samples))) - 1)]


def cold_start(runs: int = 5) -> str:
    """CPU and wall time of `python -m bot assess --json` in a fresh process (cache already built)."""
    cmd = [sys.executable, "-m", "bot", "assess", "--json", "I take zoloft and tramadol"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=True)  # builds the cache if stale
    walls, cpus = [], []
    for _ in range(runs):
        before = os.times()
        t = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=True)
        walls.append(time.perf_counter() - t)
        after = os.times()
        cpus.append((after.children_user - before.children_user) + (after.children_system - before.children_system))
    return (f"cold start of `python -m bot assess --json`: median wall {statistics.median(walls):.2f} s, "
            f"median CPU {statistics.median(cpus):.2f} s ({runs} runs; wall includes waiting for a shared CPU)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-start measurement")
    args = parser.parse_args()

    t0 = time.perf_counter()
    assess(["warm up: zoloft and tramadol"])  # loads the compiled tables once
    warm = time.perf_counter() - t0

    # Cost of each new message in 20-message conversations (the incremental API).
    per_message = []  # CPU time of this process (the machine is shared: wall time includes waiting)
    per_message_wall = []
    by_position = [[] for _ in MESSAGES]
    for r in range(args.rounds):
        order = MESSAGES[r % len(MESSAGES):] + MESSAGES[:r % len(MESSAGES)]  # vary what comes first
        state = Assessor()
        for i, text in enumerate(order):
            _clear()
            t, c = time.perf_counter(), time.process_time()
            state.add(text)
            ms = (time.process_time() - c) * 1000
            per_message_wall.append((time.perf_counter() - t) * 1000)
            per_message.append(ms)
            by_position[i].append(ms)

    # The same conversations assessed whole, as the old API did on every turn.
    whole = []
    for _ in range(max(1, args.rounds // 4)):
        _clear()
        t = time.perf_counter()
        assess(MESSAGES)
        whole.append((time.perf_counter() - t) * 1000)

    _clear()
    n = 0
    t = time.perf_counter()
    for _ in range(args.rounds):
        medications._analyse_cached.cache_clear()
        context.context.cache_clear()
        for text in MESSAGES:
            medications.analyse(text)
            n += 1
    throughput = n / (time.perf_counter() - t)

    print(f"first call in this process (loads compiled tables): {warm * 1000:.0f} ms")
    print(f"per new message, 20-message conversations (Assessor.add), CPU time: p50 {statistics.median(per_message):.2f} ms, "
          f"p95 {_p(per_message, 0.95):.2f} ms, max {max(per_message):.2f} ms ({len(per_message)} messages)")
    print(f"  the same in wall time: p50 {statistics.median(per_message_wall):.2f} ms, p95 {_p(per_message_wall, 0.95):.2f} ms "
          f"(load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"  median CPU by position: first {statistics.median(by_position[0]):.2f} ms, "
          f"10th {statistics.median(by_position[9]):.2f} ms, 20th {statistics.median(by_position[19]):.2f} ms")
    print(f"assess() of a whole 20-message conversation: median {statistics.median(whole):.1f} ms")
    print(f"recogniser throughput: {throughput:.0f} messages/s")
    if not args.no_cold:
        print(cold_start())
    print(json.dumps({"p95_ms_per_new_message": round(_p(per_message, 0.95), 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
