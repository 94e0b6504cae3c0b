"""Action server memory under the full venv (.venv, Rasa + TensorFlow) and its own (.venv-actions).

    .venv/bin/python benchmarks/bench_action_memory.py [--venvs .venv .venv-actions] [--requests 3]

For each venv: migrates a throwaway SQLite database with that venv's Python, starts
`python -m actions.server` from it (the command supervisord runs), and reports the resident set
size (`ps -o rss`) at idle after start, and after it has served its first request and a few more
(action_triage on a conversation that needs the medicine index, the language detector and the
recall layer), with the venv's size on disk (`du -sk`) and the start-up time. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.stack import free_port, wait_for  # noqa: E402

TEXTS = [
    "I take zoloft and tramadol",
    "now I'm sweaty and my legs keep jerking",
    "my little boy went stiff and then limp and wouldn't answer me",
]


def rss_kib(pid: int) -> int:
    return int(subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True, check=True).stdout)


def du_kib(path: Path) -> int:
    return int(subprocess.run(["du", "-sk", str(path.resolve())], capture_output=True, text=True, check=True).stdout.split()[0])


def call(sender: str, texts: list) -> dict:
    events = [{"event": "action", "name": "action_listen"}]
    for t in texts:
        events.append({"event": "user", "text": t, "parse_data": {"intent": {"name": "report_symptom"}, "entities": []}})
    return {
        "next_action": "action_triage", "sender_id": sender, "version": "3.6.2", "domain": {},
        "tracker": {
            "sender_id": sender, "slots": {"language": "en"}, "events": events, "active_loop": {},
            "latest_message": {"text": texts[-1], "intent": {"name": "report_symptom"}, "entities": []},
            "latest_action_name": "action_listen",
        },
    }


def measure(venv: Path, n_requests: int) -> dict:
    python = venv / "bin" / "python"
    work = Path(tempfile.mkdtemp(prefix="bench-actions-"))
    secret = secrets.token_urlsafe(24)
    port = free_port()
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{work / 'actions.db'}",
        "CLONUS_DATA_DIR": str(work), "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "RASA_TELEMETRY_ENABLED": "false",
        "ACTION_SERVER_SECRET": secret, "SANIC_HOST": "127.0.0.1", "LOG_LEVEL": "WARNING",
    }
    subprocess.run([str(python), "-c", "from bot.db import migrate; migrate()"], cwd=ROOT, env=env, check=True)
    log = work / "actions.log"
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(python), "-m", "actions.server", "--port", str(port)], cwd=ROOT, env=env,
        stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", 180, proc, log)
        start_s = time.monotonic() - started
        time.sleep(2)
        idle = rss_kib(proc.pid)
        headers = {"X-Clonus-Action-Secret": secret}
        first = requests.post(f"http://127.0.0.1:{port}/webhook", json=call("bench-0", TEXTS), headers=headers, timeout=300)
        first.raise_for_status()
        after_one = rss_kib(proc.pid)
        for i in range(1, n_requests):
            requests.post(f"http://127.0.0.1:{port}/webhook", json=call(f"bench-{i}", TEXTS[: 1 + i % 3]), headers=headers, timeout=300).raise_for_status()
        after_n = rss_kib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"venv": venv.name, "start_s": start_s, "idle": idle, "after_one": after_one, "after_n": after_n, "disk": du_kib(venv)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venvs", nargs="+", default=[".venv", ".venv-actions"])
    parser.add_argument("--requests", type=int, default=3)
    args = parser.parse_args()
    rows = [measure(ROOT / v, max(1, args.requests)) for v in args.venvs]
    mib = 1024
    print(f"{'venv':<16}{'start s':>9}{'RSS idle MiB':>14}{'after 1 req':>13}{f'after {args.requests}':>11}{'venv on disk MiB':>18}")
    for r in rows:
        print(
            f"{r['venv']:<16}{r['start_s']:>9.1f}{r['idle'] / mib:>14.1f}{r['after_one'] / mib:>13.1f}"
            f"{r['after_n'] / mib:>11.1f}{r['disk'] / mib:>18.0f}"
        )


if __name__ == "__main__":
    main()
