#!/usr/bin/env python
"""Score the n-gram reader of the recall layer (bot/recall) on blind vignettes (default: the DEV half only).

    .venv/bin/python scripts/score_recall.py [/work/blind/issue9/dev/vignettes.yml] [--thresholds 0.5,0.7,0.9] [-v]

1. Per feature: the vignette labels name rules, not features, so each rule is mapped to the group of
   features that can make it fire (RULE_FEATURES). For a feature f, a vignette is POSITIVE when one
   of its expected rules has f in its group. recall(f) = positives where propose() gives f >= the
   threshold / positives; precision(f) = those / all vignettes where propose() gives f. (A rule group
   holds several features and a vignette usually shows one of them, so per-feature recall is a lower
   bound; the per-RULE line, "any feature of the group proposed", is the fair recall.)
2. Effect on triage: the engine as it is (bot.triage.assess), and the engine with the features that
   propose() gives at or above the threshold for each message added to that message's own features
   before the rules run, EXCEPT those the engine's own context finds denied or past in that message
   (its negation wins), and withdrawn like the engine's own by an explicit correction. Reported: emergency recall, accuracy, and self_care cases sent to
   emergency, for both.

Never point this at a test half while tuning.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, FrozenSet, Optional, Sequence

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import triage  # noqa: E402
from bot.recall import FEATURES, propose  # noqa: E402

DEFAULT = Path("/work/blind/issue9/dev/vignettes.yml")

#: Features whose presence can make each rule fire (policy sections 2, 4, 5).
RULE_FEATURES: Dict[str, FrozenSet[str]] = {
    "SS-HUNTER": frozenset({"spontaneous_clonus", "inducible_clonus", "ocular_clonus", "diaphoresis", "agitation",
                            "hypertonia", "hyperreflexia", "tremor", "fever"}),
    "SS-SYMPTOMS": frozenset({"agitation", "hallucinations", "fever", "diaphoresis", "tremor", "hypertonia", "confusion",
                              "spontaneous_clonus"}),
    "RF-SELF-HARM": frozenset({"self_harm"}),
    "RF-SEIZURE": frozenset({"seizure", "loss_of_consciousness"}),
    "RF-BREATHING": frozenset({"breathing_trouble", "blue_lips"}),
    "RF-STROKE": frozenset({"face_droop", "one_sided_weakness", "speech_problem", "vision_loss"}),
    "RX-RESP-DEPRESSION": frozenset({"breathing_trouble", "blue_lips", "unresponsive", "extreme_sleepiness"}),
    "RX-BACLOFEN-WITHDRAWAL": frozenset({"fever", "confusion", "hallucinations", "hypertonia", "seizure"}),
    "RF-MENINGITIS": frozenset({"fever", "confusion"}),
    "RX-BENZO-STOP": frozenset({"seizure"}),
    "RF-LIVER": frozenset({"confusion", "extreme_sleepiness"}),
}


def _level(messages: Sequence[str], threshold: Optional[float]) -> str:
    """The engine's level with the recall layer at `threshold` (None: the layer off), through the
    engine's own seam (bot.triage.proposed_features), so this script cannot drift from the engine."""
    saved = list(triage._PROPOSE)  # noqa: SLF001
    try:
        triage._PROPOSE[:] = [[] if threshold is None else [("ngram", propose, threshold)]]  # noqa: SLF001
        return triage.assess(list(messages)).triage_level
    finally:
        triage._PROPOSE[:] = saved  # noqa: SLF001


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", nargs="?", default=str(DEFAULT))
    parser.add_argument("--thresholds", default="0.5,0.7,0.9")
    parser.add_argument("-v", action="store_true", help="list the vignettes whose level changes")
    args = parser.parse_args(list(argv))
    if "/test" in args.path:
        print("refusing a test half: tune and score on dev only", file=sys.stderr)
        return 2
    items = yaml.safe_load(Path(args.path).read_text(encoding="utf-8"))["vignettes"]
    probs = [[propose(m) for m in item["messages"]] for item in items]
    base = [_level(item["messages"], None) for item in items]
    print(f"{args.path}: {len(items)} vignettes")
    for threshold in (float(t) for t in args.thresholds.split(",")):
        print(f"\n== threshold {threshold}")
        proposed = [[frozenset(f for f, p in pm.items() if p >= threshold) for pm in ps] for ps in probs]
        union = [frozenset().union(*ps) if ps else frozenset() for ps in proposed]
        # per rule
        for rule, group in RULE_FEATURES.items():
            pos = [i for i, item in enumerate(items) if rule in (item.get("rules") or [])]
            hit = [i for i in pos if union[i] & group]
            flagged = [i for i, u in enumerate(union) if u & group]
            prec = sum(1 for i in flagged if rule in (items[i].get("rules") or [])) / max(1, len(flagged))
            if pos:
                print(f"  {rule:24s} recall {len(hit)}/{len(pos)}  precision {prec:.2f} ({len(flagged)} vignettes flagged)")
        # per feature
        print("  per feature (positives = a vignette whose rules include the feature's group):")
        for f in FEATURES:
            pos = [i for i, item in enumerate(items) if any(f in RULE_FEATURES.get(r, ()) for r in item.get("rules") or [])]
            got = [i for i, u in enumerate(union) if f in u]
            tp = len(set(pos) & set(got))
            if pos or got:
                print(f"    {f:22s} recall {tp}/{len(pos)}  precision {tp}/{len(got)}")
        # effect on triage
        aug = [_level(item["messages"], threshold) for item in items]
        for name, levels in (("engine", base), ("engine+recall", aug)):
            emerg = [i for i, item in enumerate(items) if item["level"] == "emergency"]
            rec = sum(1 for i in emerg if levels[i] == "emergency") / max(1, len(emerg))
            acc = sum(1 for i, item in enumerate(items) if levels[i] == item["level"]) / len(items)
            sc_em = sum(1 for i, item in enumerate(items) if item["level"] == "self_care" and levels[i] == "emergency")
            over = sum(1 for i, item in enumerate(items) if item["level"] != "emergency" and levels[i] == "emergency")
            print(f"  {name:14s} emergency recall {rec:.3f}  accuracy {acc:.3f}  self_care->emergency {sc_em}  "
                  f"non-emergency->emergency {over}")
        if args.v:
            for i, item in enumerate(items):
                if aug[i] != base[i]:
                    print(f"    {item['id']} expected {item['level']}: {base[i]} -> {aug[i]} via {sorted(union[i])}")
        confusion = Counter((item["level"], aug[i]) for i, item in enumerate(items))
        print("  engine+recall confusion (expected -> got):", dict(sorted(confusion.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
