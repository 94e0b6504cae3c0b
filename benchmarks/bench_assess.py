"""Benchmark of the triage engine: assess() latency per message (p50/p95) and recogniser throughput.

Usage: .venv/bin/python benchmarks/bench_assess.py [--rounds N]
Figures go in notes, never into timed asserts in tests. Caches are cleared between rounds so that
the numbers measure the work, not the per-process memo of repeated texts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot import medications, symptoms  # noqa: E402
from bot.triage import assess  # noqa: E402

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
]


def _clear() -> None:
    medications._analyse_cached.cache_clear()
    symptoms._extract_cached.cache_clear()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()

    t0 = time.perf_counter()
    assess(["warm up: zoloft and tramadol"])  # builds the spaCy pipeline and tables once
    warm = time.perf_counter() - t0

    samples = []
    for _ in range(args.rounds):
        _clear()
        for text in MESSAGES:
            t = time.perf_counter()
            assess([text])
            samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    p50 = statistics.median(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]

    _clear()
    n = 0
    t = time.perf_counter()
    for _ in range(args.rounds):
        medications._analyse_cached.cache_clear()
        for text in MESSAGES:
            medications.analyse(text)
            n += 1
    throughput = n / (time.perf_counter() - t)

    conversation = MESSAGES[:6]
    _clear()
    t = time.perf_counter()
    for _ in range(args.rounds):
        _clear()
        assess(conversation)
    per_conv = (time.perf_counter() - t) * 1000 / args.rounds

    print(f"first call (builds pipeline and tables): {warm * 1000:.0f} ms")
    print(f"assess latency per message: p50 {p50:.2f} ms, p95 {p95:.2f} ms ({len(samples)} samples, caches cleared)")
    print(f"assess of a 6-message conversation: {per_conv:.2f} ms")
    print(f"recogniser throughput: {throughput:.0f} messages/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
