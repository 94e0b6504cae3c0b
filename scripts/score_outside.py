#!/usr/bin/env python
"""Score the engine on the outside tester's conversations (tests/blind/outside_2026_12_04, a development set):
correct levels, missed emergencies and false alarms to emergency, with the recall layer as CLONUS_RECALL sets it.

    .venv/bin/python scripts/score_outside.py [-v]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.triage import assess  # noqa: E402

SET = ROOT / "tests" / "blind" / "outside_2026_12_04" / "conversations.jsonl"


def main() -> int:
    items = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [d for d in items if len(json.dumps(d["conv"])) <= 4000]
    seen, rows = set(), []
    for d in items:
        key = json.dumps(d["conv"])
        if key in seen:
            continue
        seen.add(key)
        rows.append((d, assess(d["conv"]).triage_level))
    correct = sum(1 for d, got in rows if got == d["exp"])
    missed = [(d, got) for d, got in rows if d["exp"] == "emergency" and got != "emergency"]
    alarms = [(d, got) for d, got in rows if d["exp"] != "emergency" and got == "emergency"]
    print(f"{len(rows)} conversations: correct {correct}, missed emergencies {len(missed)}, false alarms {len(alarms)}")
    if "-v" in sys.argv[1:]:
        for d, got in missed + alarms:
            print(f"  {d['id']}: expected {d['exp']}, got {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
