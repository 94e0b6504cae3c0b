#!/usr/bin/env python
"""Cost of the recall layer (bot/recall): cold load, resident memory, per-message latency.

    .venv/bin/python benchmarks/bench_recall.py

Cold load = import + first propose() in a fresh process (weights read and checked). RSS is the
process's resident set before and after. Latency over 200 varied messages, warm (no cache hits:
every message is distinct).
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    before = rss_mb()
    t, c = time.perf_counter(), time.process_time()
    from bot.recall import propose

    propose("warm up")
    load_wall, load_cpu = time.perf_counter() - t, time.process_time() - c
    after = rss_mb()
    base = [
        "my legs keep jerking on their own and im sweating a lot",
        "i dont have any sweating or fever or twitching",
        "my son went stiff and then limp and wouldnt answer me",
        "hypothetically if i took tramadol with my effexor would that be bad",
        "sometimes i wish i could go to sleep and not wake up",
        "ran out of baclofen and now im seeing things. my legs are spasming worse than ever",
        "can i book an appointment next week",
        "her breathing is really weird and gaspy and she wont wake up",
    ]
    texts = [f"{b} ({i})" for i in range(25) for b in base]
    times, cpu = [], []
    for text in texts:
        t, c = time.perf_counter(), time.thread_time()
        propose(text)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
    times.sort()
    cpu.sort()
    print(f"cold load {load_wall:.3f} s wall, {load_cpu:.3f} s CPU; RSS {before:.0f} -> {after:.0f} MB (+{after - before:.0f} MB)")
    print(f"per message over {len(texts)}: wall median {statistics.median(times):.2f} ms, p95 {times[int(0.95 * len(times))]:.2f} ms; "
          f"CPU median {statistics.median(cpu):.2f} ms, p95 {cpu[int(0.95 * len(cpu))]:.2f} ms (wall includes waiting for a shared core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
