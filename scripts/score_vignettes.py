"""Score the triage engine on any vignette file: the project's 69 (tests/vignettes/vignettes.yml, the
default) or a blind half (e.g. /work/blind/issue9/dev/vignettes.yml), each a YAML `vignettes:` list of
{id, messages, level, rules, current}.

Prints emergency recall, per-level accuracy, the confusion matrix, the number of self_care cases sent
to emergency, rule-id agreement and current medicines. Exits non-zero when emergency recall < 1.0,
overall accuracy < 0.90, or a self_care vignette is sent to emergency.
Usage: .venv/bin/python scripts/score_vignettes.py [path] [--verbose]   (CLONUS_RECALL=0: recall layer off)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.triage import LEVELS, assess  # noqa: E402  (needs ROOT on sys.path when run as a script)
from scripts.score_medicines import canonical  # noqa: E402  (a set's names, in the knowledge base's words)

DEFAULT_PATH = ROOT / "tests" / "vignettes" / "vignettes.yml"
TARGET_EMERGENCY_RECALL = 1.0
TARGET_ACCURACY = 0.90


@dataclass
class Score:
    total: int = 0
    correct: int = 0
    confusion: Dict[str, Dict[str, int]] = field(default_factory=lambda: {a: {b: 0 for b in LEVELS} for a in LEVELS})
    rules_expected_fired: int = 0  # vignettes where every expected rule id fired
    rules_exact: int = 0  # ... and no other rule fired
    meds_exact: int = 0  # current medicines exactly as expected
    misses: List[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def recall(self, level: str) -> float:
        row = self.confusion[level]
        n = sum(row.values())
        return row[level] / n if n else 1.0

    @property
    def self_care_to_emergency(self) -> int:
        return self.confusion["self_care"]["emergency"]

    def failures(self) -> List[str]:
        out = []
        if self.recall("emergency") < TARGET_EMERGENCY_RECALL:
            out.append(f"emergency recall {self.recall('emergency'):.3f} < {TARGET_EMERGENCY_RECALL}")
        if self.accuracy < TARGET_ACCURACY:
            out.append(f"accuracy {self.accuracy:.3f} < {TARGET_ACCURACY}")
        if self.self_care_to_emergency:
            out.append(f"{self.self_care_to_emergency} self_care vignette(s) sent to emergency")
        return out


def load(path: Optional[Path] = None) -> List[dict]:
    data = yaml.safe_load(Path(path or DEFAULT_PATH).read_text(encoding="utf-8"))
    return list(data["vignettes"])


def score(vignettes: Sequence[dict]) -> Score:
    s = Score()
    for v in vignettes:
        a = assess(v["messages"])
        s.total += 1
        s.confusion[v["level"]][a.triage_level] += 1
        fired = set(a.rule_ids)
        expected = set(v.get("rules") or [])
        current = sorted(m.name for m in a.medications if m.status == "current")
        if a.triage_level == v["level"]:
            s.correct += 1
        else:
            s.misses.append(f"{v['id']}: expected {v['level']}, got {a.triage_level} (fired {sorted(fired)})")
        if expected <= fired:
            s.rules_expected_fired += 1
            if expected == fired:
                s.rules_exact += 1
        if current == sorted(canonical(name) for name in v.get("current") or []):
            s.meds_exact += 1
    return s


def report(s: Score) -> str:
    lines = [f"vignettes: {s.total}", f"emergency recall: {s.recall('emergency'):.3f}",
             f"overall accuracy: {s.accuracy:.3f} ({s.correct}/{s.total})", "per-level accuracy (recall):"]
    for level in LEVELS:
        n = sum(s.confusion[level].values())
        lines.append(f"  {level:<10} {s.recall(level):.3f} ({s.confusion[level][level]}/{n})")
    lines.append("confusion matrix (rows: expected, columns: engine):")
    lines.append("  " + " " * 11 + "".join(f"{lvl:>11}" for lvl in LEVELS))
    for level in LEVELS:
        lines.append(f"  {level:<11}" + "".join(f"{s.confusion[level][c]:>11}" for c in LEVELS))
    lines.append(f"rule ids: expected all fired in {s.rules_expected_fired}/{s.total} "
                 f"({s.rules_expected_fired / s.total:.3f}); exactly the expected set in {s.rules_exact}/{s.total}")
    lines.append(f"current medicines exactly right: {s.meds_exact}/{s.total}")
    lines.append(f"self_care sent to emergency: {s.self_care_to_emergency}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in args
    paths = [a for a in args if not a.startswith("--")]
    s = score(load(Path(paths[0]) if paths else None))
    print(report(s))
    if verbose and s.misses:
        print("misses:\n  " + "\n  ".join(s.misses))
    failures = s.failures()
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
