#!/usr/bin/env python
"""Medicine recognition on a blind medicine-text set (default: the dev half), by NAME: which
canonical names are found (any status but negated) and which words are reported unrecognised.
Statuses (current/past/hypothetical/...) belong to the engine's context layer and are not scored here.

    .venv/bin/python scripts/score_medicines.py [/work/blind/issue9/dev/medicine_texts.yml] [-v]
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.medications import analyse  # noqa: E402

DEFAULT = Path("/work/blind/issue9/dev/medicine_texts.yml")


def main(argv) -> int:
    verbose = "-v" in argv
    paths = [a for a in argv if not a.startswith("-")]
    path = Path(paths[0]) if paths else DEFAULT
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["texts"]
    tp = fp = fn = 0
    utp = ufp = ufn = 0
    wrong = 0
    for item in items:
        expected = {m["name"] for m in item.get("mentions") or [] if m.get("status") != "negated"}
        result = analyse(item["text"])
        found = {m.name for m in result.mentions if m.status != "negated"}
        exp_u = {u.lower() for u in item.get("unrecognised") or []}
        got_u = {u.lower() for u in result.unrecognised}
        tp += len(found & expected); fp += len(found - expected); fn += len(expected - found)
        utp += len(got_u & exp_u); ufp += len(got_u - exp_u); ufn += len(exp_u - got_u)
        if found != expected or got_u != exp_u:
            wrong += 1
            if verbose:
                print(f"{item['id']}: {item['text']!r}\n   missing {sorted(expected - found)} extra {sorted(found - expected)}"
                      f" unrec missing {sorted(exp_u - got_u)} unrec extra {sorted(got_u - exp_u)}")
    print(f"{path}: {len(items)} texts; names precision {tp / max(1, tp + fp):.3f} recall {tp / max(1, tp + fn):.3f} "
          f"(tp {tp} fp {fp} fn {fn}); unrecognised precision {utp / max(1, utp + ufp):.3f} recall {utp / max(1, utp + ufn):.3f}; "
          f"texts not exactly right {wrong}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
