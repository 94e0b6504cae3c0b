"""How many times the triage engine runs per turn, on the real Rasa server and action server.

Starts the stack (tests/e2e/stack.py of --repo, so the same script measures another checkout, e.g.
main before issue 10) with a `sitecustomize` that counts, in every server process, the calls of
`bot.triage.assess` (whole-conversation runs) and of `bot.triage._read` (messages the engine read),
then holds a fixed conversation over the dev channel and prints the counts per turn.

    .venv/bin/python benchmarks/bench_turn_engine.py --model models/<model>.tar.gz [--repo /work/main]

Counts, not times: nothing here depends on the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

CONVERSATION = [
    "hi",
    "what is clonus",
    "my ankle bounces when I stand up and I take sertraline",
    "is it the dantrium? my eyes look yellow",
    "should I worry",
    "I want to book an appointment",
    "Jamie Ortiz",
    "(312) 555-0134",
    "tuesday 9:30",
    "ankle clonus follow up",
    "yes",
    "thanks, bye",
]

SITECUSTOMIZE = r'''
"""Benchmark only (benchmarks/bench_turn_engine.py): count triage engine calls in this process."""
import importlib.abc
import importlib.util
import json
import os
import sys

_DIR = os.environ.get("CLONUS_ENGINE_COUNT_DIR")
_COUNTS = {"assess": 0, "messages_read": 0}


def _save():
    path = os.path.join(_DIR, f"{os.getpid()}.json")
    with open(path + ".tmp", "w") as fh:
        json.dump(_COUNTS, fh)
    os.replace(path + ".tmp", path)


def _patch(module):
    read, assess = module._read, module.assess

    def counted_read(*args, **kwargs):
        _COUNTS["messages_read"] += 1
        _save()
        return read(*args, **kwargs)

    def counted_assess(*args, **kwargs):
        _COUNTS["assess"] += 1
        _save()
        return assess(*args, **kwargs)

    module._read, module.assess = counted_read, counted_assess


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "bot.triage":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            _patch(module)

        spec.loader.exec_module = exec_module
        return spec


if _DIR:
    sys.meta_path.insert(0, _Finder())
'''


def totals(count_dir: Path) -> dict:
    out = {"assess": 0, "messages_read": 0}
    for f in count_dir.glob("*.json"):
        try:
            data = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        for k in out:
            out[k] += int(data.get(k, 0))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, type=Path)
    ap.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    ap.add_argument("--start-timeout", type=float, default=900, help="seconds to wait for each server (a loaded machine)")
    args = ap.parse_args()
    repo = args.repo.resolve()
    sys.path.insert(0, str(repo))
    from tests.e2e import stack as stack_module  # noqa: E402
    from tests.e2e.stack import Stack, create_postgres_database, drop_postgres_database  # noqa: E402

    wait_for = stack_module.wait_for
    stack_module.wait_for = lambda url, timeout, proc, log: wait_for(url, max(timeout, args.start_timeout), proc, log)

    site = Path(tempfile.mkdtemp(prefix="clonus-bench-site-"))
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    count_dir = Path(tempfile.mkdtemp(prefix="clonus-bench-counts-"))
    db = create_postgres_database()
    stack = Stack(
        model=args.model.resolve(),
        database_url=db,
        env_extra={"PYTHONPATH": f"{site}{os.pathsep}{repo}", "CLONUS_ENGINE_COUNT_DIR": str(count_dir)},
    )
    rows = []
    try:
        stack.start()
        sender = f"bench-{uuid.uuid4().hex[:8]}"
        before = totals(count_dir)
        for text in CONVERSATION:
            stack.say(sender, text)
            after = totals(count_dir)
            rows.append({"message": text, **{k: after[k] - before[k] for k in after}})
            before = after
    finally:
        stack.stop()
        drop_postgres_database(db)
    n = len(rows)
    summary = {
        "repo": str(repo),
        "turns": n,
        "assess_per_turn": sum(r["assess"] for r in rows) / n,
        "messages_read_per_turn": sum(r["messages_read"] for r in rows) / n,
        "rows": rows,
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"repo {repo}")
    print(f"{'turn':>4}  {'assess()':>8}  {'messages read':>13}  message")
    for i, r in enumerate(rows, 1):
        print(f"{i:>4}  {r['assess']:>8}  {r['messages_read']:>13}  {r['message']}")
    print(f"mean  {summary['assess_per_turn']:>8.2f}  {summary['messages_read_per_turn']:>13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
