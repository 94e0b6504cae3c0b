"""CPU time per turn and memory of the assistant's Rasa server, measured in-process.

    .venv/bin/python benchmarks/profile_turn.py --model models/X.tar.gz [--turns 120] [--profile out.prof]

The real action server runs in its own process (tests/e2e/stack.Stack, a throwaway SQLite
database); the Rasa server's work (the agent with the repository's endpoints: tracker store, NLG,
the rasa_ext seams) runs in this process, so its CPU time per turn can be read with
time.process_time() whatever else the machine is doing (wall time on a shared, loaded machine says
little). The conversation is benchmarks/bench_rasa.CONVERSATION, the one bench_vs_init.py holds.
Prints: RSS after the model is loaded and after the turns, CPU ms per turn (p50, p95, mean), and
with --profile a cProfile of the turns (top functions by cumulative time printed too).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_rasa import CONVERSATION, pct, rss_kib  # noqa: E402
from tests.e2e.stack import Stack  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--turns", type=int, default=120)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the measured turns here")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--replies", type=Path, help="write each turn's reply texts and the last action here (to compare two checkouts)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="profile-turn-"))
    stack = Stack(model=args.model, database_url=f"sqlite:///{workdir / 'bench.sqlite3'}")
    from bot.db import migrate

    migrate(stack.database_url)
    os.environ.update(stack.env())
    stack.start_action_server()
    try:
        asyncio.run(run(args, stack))
    finally:
        stack.stop()


async def run(args: argparse.Namespace, stack: Stack) -> None:
    from rasa_ext.server import prepare_environment

    prepare_environment()
    from rasa_ext import logsafe, resilience

    logsafe.install_rasa()
    resilience.install()
    # The logging `rasa run` sets up (LOG_LEVEL, INFO by default), so logging costs what it costs there.
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(None, None, warn_only_once=True, filter_repeated_logs=True)
    configure_structlog(None)
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.utils import AvailableEndpoints

    rss_start = rss_kib(os.getpid())
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
    agent = await load_agent(model_path=str(args.model), endpoints=endpoints)
    rss_loaded = rss_kib(os.getpid())

    replies = []

    async def say(sender: str, text: str) -> CollectingOutputChannel:
        out = CollectingOutputChannel()
        await agent.handle_message(UserMessage(text, out, sender))
        return out

    async def note(sender: str, text: str, out: CollectingOutputChannel) -> None:
        """What the turn answered (outside the measured time)."""
        tracker = await agent.tracker_store.retrieve(sender)
        replies.append(f"{text} -> {tracker.latest_action_name} | " + " / ".join(m.get("text") or "" for m in out.messages))

    for text in CONVERSATION[:3]:  # warm-up (first-turn loading is not a turn)
        await say("warm-up", text)

    profiler = cProfile.Profile() if args.profile else None
    cpu, wall = [], []
    sender = ""
    for i in range(args.turns):
        if i % len(CONVERSATION) == 0:
            sender = f"prof-{uuid.uuid4().hex[:8]}"
        c0, w0 = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        out = await say(sender, CONVERSATION[i % len(CONVERSATION)])
        if profiler:
            profiler.disable()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
        if args.replies:
            await note(sender, CONVERSATION[i % len(CONVERSATION)], out)
    rss_end = rss_kib(os.getpid())
    if args.replies:
        args.replies.write_text("\n".join(replies) + "\n")

    print(f"model: {args.model.name}; {args.turns} turns; load average {os.getloadavg()[0]:.1f}")
    print(f"RSS: before load {rss_start / 1024:.0f} MiB, after load {rss_loaded / 1024:.0f} MiB, after turns {rss_end / 1024:.0f} MiB")
    print(f"CPU ms per turn (this process): p50 {pct(cpu, 50):.1f}, p95 {pct(cpu, 95):.1f}, mean {sum(cpu) / len(cpu):.1f}")
    print(f"wall ms per turn: p50 {pct(wall, 50):.0f}, p95 {pct(wall, 95):.0f}")
    per_text: dict = {}
    for i, c in enumerate(cpu):
        per_text.setdefault(CONVERSATION[i % len(CONVERSATION)], []).append(c)
    for text, values in per_text.items():
        print(f"  {sum(values) / len(values):7.1f} ms  {text}")
    if profiler:
        profiler.dump_stats(str(args.profile))
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
