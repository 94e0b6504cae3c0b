"""Turn latency and server memory of the assistant against Rasa's own `rasa init` bot, same machine, same run.

    .venv/bin/python benchmarks/bench_vs_init.py [--turns 180] [--model models/X.tar.gz]

Issue 10's targets: the assistant's p95 turn latency at most 1.3x the init bot's, and the Rasa
server's memory at most 1.2x. Both bots are started here:
- the assistant: the real Rasa server and action server (tests/e2e/stack.Stack, a throwaway SQLite
  database), spoken to over its dev channel;
- the init bot: `rasa init --no-prompt` into a temporary directory (which trains Rasa's default
  pipeline on the moodbot data; nothing is downloaded), served by `rasa run` with its own REST
  channel and in-memory tracker store, exactly as `rasa init` leaves it.
Turns alternate between the two bots (one assistant turn, one init turn) so that whatever else the
machine is doing weighs on both alike. Memory: peak RSS of each Rasa server process (and its
children), sampled every 0.2 s; the assistant's action server is reported separately, since the
init bot has none. Prints the figures; nothing here is asserted by the tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
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

from benchmarks.bench_rasa import CONVERSATION, pct, rss_kib  # noqa: E402
from tests.e2e.stack import Stack, free_port, wait_for  # noqa: E402

RASA = ROOT / ".venv" / "bin" / "rasa"
# What a person says to the moodbot (its stories: greet, mood, affirm/deny, goodbye, bot challenge).
INIT_CONVERSATION = [
    "hello", "i am very sad", "no", "are you a bot?", "yes", "hi", "great, thanks", "bye", "hey", "i'm unhappy",
]


def start_init_bot(workdir: Path, env: dict) -> tuple[subprocess.Popen, str, Path]:
    project = workdir / "init-bot"
    log = workdir / "init-bot.log"
    project.mkdir()  # rasa init refuses a directory that does not exist
    start = time.perf_counter()
    subprocess.run(
        [str(RASA), "init", "--no-prompt", "--init-dir", str(project)],
        cwd=workdir, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT, check=True,
    )
    print(f"rasa init (with training of the default pipeline): {time.perf_counter() - start:.0f} s")
    model = sorted((project / "models").glob("*.tar.gz"))[-1]
    port = free_port()
    proc = subprocess.Popen(
        [str(RASA), "run", "--model", str(model), "--enable-api", "--interface", "127.0.0.1", "--port", str(port),
         "--credentials", str(project / "credentials.yml"), "--endpoints", str(project / "endpoints.yml")],
        cwd=project, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/", 300, proc, log)
    return proc, url, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=180, help="turns per bot")
    parser.add_argument("--model", type=Path, help="the assistant's model (default: the newest in models/)")
    args = parser.parse_args()

    env = dict(os.environ, SQLALCHEMY_SILENCE_UBER_WARNING="1", TF_CPP_MIN_LOG_LEVEL="3", RASA_TELEMETRY_ENABLED="false")
    model = args.model or sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)[-1]
    workdir = Path(tempfile.mkdtemp(prefix="bench-vs-init-"))
    init_proc = None
    stack = None
    try:
        init_proc, init_url, _ = start_init_bot(workdir, env)
        stack = Stack(model=model, database_url=f"sqlite:///{workdir / 'bench.sqlite3'}").start()
        rasa_pid = stack.named["rasa"].pid
        action_pid = stack.named["actions"].pid
        peak = {"ours": 0, "actions": 0, "init": 0}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak["ours"] = max(peak["ours"], rss_kib(rasa_pid))
                peak["actions"] = max(peak["actions"], rss_kib(action_pid))
                peak["init"] = max(peak["init"], rss_kib(init_proc.pid))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        def init_say(sender: str, text: str) -> None:
            reply = requests.post(f"{init_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
            reply.raise_for_status()

        # One warm-up conversation each (first-turn model loading is not a turn latency).
        for text in CONVERSATION[:3]:
            stack.say("warm-up", text)
        for text in INIT_CONVERSATION[:3]:
            init_say("warm-up", text)

        ours, init = [], []
        for i in range(args.turns):
            if i % len(CONVERSATION) == 0:
                our_sender = f"bench-{uuid.uuid4().hex[:8]}"
            if i % len(INIT_CONVERSATION) == 0:
                init_sender = f"bench-{uuid.uuid4().hex[:8]}"
            t0 = time.perf_counter()
            stack.say(our_sender, CONVERSATION[i % len(CONVERSATION)])
            ours.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            init_say(init_sender, INIT_CONVERSATION[i % len(INIT_CONVERSATION)])
            init.append((time.perf_counter() - t0) * 1000)
        stop.set()
        sampler.join()

        print(f"model: {model.name}; {args.turns} turns per bot, alternating")
        print("| bot | p50 ms | p95 ms | Rasa server peak RSS MiB |")
        print("|---|---|---|---|")
        print(f"| assistant | {pct(ours, 50):.0f} | {pct(ours, 95):.0f} | {peak['ours'] / 1024:.0f} |")
        print(f"| rasa init | {pct(init, 50):.0f} | {pct(init, 95):.0f} | {peak['init'] / 1024:.0f} |")
        print(
            f"ratios: p95 {pct(ours, 95) / pct(init, 95):.2f}x (target <= 1.3), "
            f"memory {peak['ours'] / max(peak['init'], 1):.2f}x (target <= 1.2); "
            f"the assistant's action server: {peak['actions'] / 1024:.0f} MiB RSS"
        )
    finally:
        if stack is not None:
            stack.stop()
        if init_proc is not None:
            init_proc.terminate()
            try:
                init_proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                init_proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
