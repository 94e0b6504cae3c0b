"""Score the medicine recogniser on a file of medicine texts (e.g. the blind dev set).

The file is YAML: `texts:` a list of {id, text, mentions: [{name, status}], unrecognised: [words]}.
Statuses in the file are current / past / hypothetical / negated / other_person. Scored:

- precision and recall over (name, current-or-not) pairs: a pair is right when the engine names the
  medicine and agrees whether the person takes it NOW (a past, hypothetical, negated or someone
  else's mention is "not current", and must not be reported as current);
- texts whose set of pairs is exactly right;
- recall of `unrecognised` (every expected unknown name must be said back; case-insensitive) and
  the unknown words said back that the file does not expect (reported, not scored);
- for the knowledge base alone, precision and recall by NAME (any status but negated), whatever
  the status (the figure the knowledge work is tuned on).

Usage: .venv/bin/python scripts/score_medicines.py [FILE] [--verbose|-v]   (default FILE: the blind dev half)
Exit status 1 when precision or recall < 0.98 or unrecognised recall < 1.0.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Set, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.medications import analyse, knowledge  # noqa: E402  (needs ROOT on sys.path when run as a script)

TARGET = 0.98
DEFAULT_PATH = Path("/work/blind/issue9/dev/medicine_texts.yml")

Pair = Tuple[str, bool]


@dataclass
class MedScore:
    texts: int = 0
    exact: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    unrec_expected: int = 0
    unrec_found: int = 0
    unrec_extra: int = 0
    name_tp: int = 0
    name_fp: int = 0
    name_fn: int = 0
    misses: List[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def unrecognised_recall(self) -> float:
        return self.unrec_found / self.unrec_expected if self.unrec_expected else 1.0


def canonical(name: str) -> str:
    """The knowledge base's canonical name for a name a set labels with ("same" is SAMe, i.e.
    s-adenosylmethionine): a set may write a medicine by any alias the knowledge base knows, and that
    is a difference in naming, not in what was recognised. A name the base does not know is kept."""
    name = str(name).lower()
    kb = knowledge()
    if name in kb.medicines:
        return name
    med = kb.lookup(name)
    return med.name if med is not None else name


def expected_pairs(item: dict) -> Set[Pair]:
    return {(canonical(m["name"]), m.get("status") == "current") for m in item.get("mentions") or []}


def engine_pairs(text: str) -> Tuple[Set[Pair], List[str]]:
    rec = analyse(text)
    pairs: dict = {}
    for m in rec.mentions:
        # One medicine named twice: current wins (the person takes it now).
        pairs[m.name] = pairs.get(m.name, False) or m.status == "current"
    return set(pairs.items()), rec.unrecognised


def score(items: Sequence[dict]) -> MedScore:
    s = MedScore()
    for item in items:
        s.texts += 1
        want = expected_pairs(item)
        got, unrec = engine_pairs(item["text"])
        s.tp += len(want & got)
        s.fp += len(got - want)
        s.fn += len(want - got)
        if want == got:
            s.exact += 1
        want_names = {canonical(m["name"]) for m in item.get("mentions") or [] if m.get("status") != "negated"}
        got_names = {m.name for m in analyse(item["text"]).mentions if m.status != "negated"}
        s.name_tp += len(want_names & got_names)
        s.name_fp += len(got_names - want_names)
        s.name_fn += len(want_names - got_names)
        expected_unrec = {str(u).lower() for u in item.get("unrecognised") or []}
        said = {u.lower() for u in unrec}
        s.unrec_expected += len(expected_unrec)
        s.unrec_found += len(expected_unrec & said)
        s.unrec_extra += len(said - expected_unrec)
        if want != got or not expected_unrec <= said:
            s.misses.append(
                f"{item.get('id', '?')}: missing {sorted(want - got)} extra {sorted(got - want)}"
                + (f" unrecognised missing {sorted(expected_unrec - said)}" if expected_unrec - said else "")
            )
    return s


def report(s: MedScore) -> str:
    return "\n".join([
        f"medicine texts: {s.texts}",
        f"(name, current) pairs: precision {s.precision:.3f}, recall {s.recall:.3f} (tp {s.tp}, fp {s.fp}, fn {s.fn})",
        f"texts exactly right: {s.exact}/{s.texts} ({s.exact / s.texts if s.texts else 0:.3f})",
        f"names alone (any status but negated): precision {s.name_tp / max(1, s.name_tp + s.name_fp):.3f}, "
        f"recall {s.name_tp / max(1, s.name_tp + s.name_fn):.3f} (tp {s.name_tp}, fp {s.name_fp}, fn {s.name_fn})",
        f"unrecognised recall: {s.unrecognised_recall:.3f} ({s.unrec_found}/{s.unrec_expected}); "
        f"unexpected words said back: {s.unrec_extra}",
    ])


def load(path: Path) -> List[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(data["texts"])


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    paths = [a for a in args if not a.startswith("-")]
    s = score(load(Path(paths[0]) if paths else DEFAULT_PATH))
    print(report(s))
    if ("--verbose" in args or "-v" in args) and s.misses:
        print("misses:\n  " + "\n  ".join(s.misses))
    ok = s.precision >= TARGET and s.recall >= TARGET and s.unrecognised_recall >= 1.0
    print("targets met" if ok else "FAILED: targets are precision and recall >= 0.98, unrecognised recall 1.0")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
