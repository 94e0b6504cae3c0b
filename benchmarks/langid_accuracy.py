"""Accuracy of bot.language.detect on short chat and SMS messages, English against Spanish.

English: every NLU example in data/ and tests/nlu_test.yml (typed like chat), the user turns of the
outside testers' conversations when ../shared/outside-tests/ is there, and benchmarks/data/
langid_english_chat.txt (typos and SMS shorthand). Spanish: benchmarks/data/langid_spanish.txt.
Both were used to choose bot/language.py's thresholds; langid_heldout_*.txt were written after
that and are reported apart.
Prints the share detected as English / as Spanish, every English message flagged non-English (so a
reader can judge it), the Spanish ones missed, time per message and the process's peak memory.

    .venv/bin/python benchmarks/langid_accuracy.py
"""

from __future__ import annotations

import json
import re
import resource
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.language import detect, preload  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
OUTSIDE = ROOT.parent / "shared" / "outside-tests"
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def _lines(path: Path) -> list:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]


def _nlu_examples(path: Path) -> list:
    found = []
    for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                found.append(_ANNOTATION.sub(r"\1", line[2:]).strip())
    return found


def english_messages() -> dict:
    sets = {"nlu data/": [], "tests/nlu_test.yml": _nlu_examples(ROOT / "tests" / "nlu_test.yml")}
    for path in sorted((ROOT / "data").rglob("*.yml")):
        sets["nlu data/"].extend(_nlu_examples(path))
    sets["english chat (typos, SMS)"] = _lines(DATA / "langid_english_chat.txt")
    outside = []
    for path in sorted(OUTSIDE.glob("conversations-*.json")) if OUTSIDE.is_dir() else []:
        for conversation in json.loads(path.read_text(encoding="utf-8")).get("conversations", []):
            for turn in conversation.get("turns", []):
                text = str(turn.get("user") or "")
                # The testers' Spanish turns (two begin with "hola", one is "no entiendo, hablo poco ingles").
                if text and not re.match(r"(?i)(hola|no entiendo)\b", text):
                    outside.append(text)
    if outside:
        sets["outside testers' turns"] = outside
    return sets


def main() -> None:
    timings = []

    def timed(text: str) -> str:
        start = time.perf_counter()
        code = detect(text)
        timings.append(time.perf_counter() - start)
        return code

    preload()  # the first call would load the n-gram models
    total_en = flagged_total = 0
    for name, messages in english_messages().items():
        messages = [m for m in messages if m]
        flagged = [(m, c) for m in messages if (c := timed(m)) != "en"]
        total_en += len(messages)
        flagged_total += len(flagged)
        print(f"English, {name}: {len(messages) - len(flagged)}/{len(messages)} English "
              f"({100 * (1 - len(flagged) / max(1, len(messages))):.1f}%)")
        for message, code in flagged:
            print(f"    flagged {code}: {message!r}")
    spanish = _lines(DATA / "langid_spanish.txt")
    missed = [(m, c) for m in spanish if (c := timed(m)) != "es"]
    print(f"English overall: {total_en - flagged_total}/{total_en} "
          f"({100 * (1 - flagged_total / total_en):.2f}%) detected English")
    print(f"Spanish: {len(spanish) - len(missed)}/{len(spanish)} "
          f"({100 * (1 - len(missed) / len(spanish)):.1f}%) detected Spanish")
    for message, code in missed:
        print(f"    missed ({code}): {message!r}")
    for language, code in (("english", "en"), ("spanish", "es")):
        held = _lines(DATA / f"langid_heldout_{language}.txt")
        wrong = [(m, c) for m in held if (c := timed(m)) != code]
        print(f"held out ({language}, written after the thresholds were set): {len(held) - len(wrong)}/{len(held)} {code}")
        for message, found in wrong:
            print(f"    wrong ({found}): {message!r}")
    ms = sorted(t * 1000 for t in timings)
    print(f"time per message: p50 {statistics.median(ms):.2f} ms, p95 {ms[int(0.95 * len(ms))]:.2f} ms, "
          f"max {ms[-1]:.1f} ms over {len(ms)} messages")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
