#!/usr/bin/env python
"""One line per vignette set: the engine's figures on every DEV half of tests/blind/triage*/ (and the
project's 69), so a change is judged on all of them at once. Test halves are scored only with
--burned: the halves already run once and reported (their figures in the notes), never one that has
not been run.

    .venv/bin/python scripts/score_all_vignettes.py [--burned triage5,triage6,triage7] [-v]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.score_vignettes import DEFAULT_PATH, load, score  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--burned", default="", help="comma-separated sets whose test half was already run once")
    ap.add_argument("-v", action="store_true", help="list the misses")
    args = ap.parse_args()
    paths = [("own 69", DEFAULT_PATH)]
    paths += [(f"{d.name}/dev", d / "dev" / "vignettes.yml") for d in sorted((ROOT / "tests" / "blind").glob("triage*"))]
    paths += [(f"{b}/test (burned)", ROOT / "tests" / "blind" / b / "test" / "vignettes.yml") for b in args.burned.split(",") if b]
    total = [0, 0, 0, 0, 0]  # vignettes, correct, emergencies, caught, self_care->emergency
    for name, path in paths:
        s = score(load(path))
        n_em = sum(s.confusion["emergency"].values())
        caught = s.confusion["emergency"]["emergency"]
        print(f"{name:24s} n={s.total:3d} acc {s.accuracy:.3f} emergency recall {caught}/{n_em} "
              f"self_care->emergency {s.self_care_to_emergency} over-triage to emergency "
              f"{sum(s.confusion[lv]['emergency'] for lv in ('urgent', 'routine', 'self_care'))}")
        if args.v:
            for m in s.misses:
                print("    " + m)
        for i, x in enumerate((s.total, s.correct, n_em, caught, s.self_care_to_emergency)):
            total[i] += x
    print(f"{'all':24s} n={total[0]} acc {total[1] / total[0]:.3f} emergency recall {total[3]}/{total[2]} self_care->emergency {total[4]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
