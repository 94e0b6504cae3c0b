"""The held-out vignettes meet the targets (scored by scripts/score_vignettes.py)."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("score_vignettes", ROOT / "scripts" / "score_vignettes.py")
score_vignettes = importlib.util.module_from_spec(_spec)
sys.modules["score_vignettes"] = score_vignettes  # dataclasses look their module up while it loads
_spec.loader.exec_module(score_vignettes)


def test_vignette_set_is_big_and_spread():
    vignettes = score_vignettes.load()
    assert len(vignettes) >= 60
    counts = Counter(v["level"] for v in vignettes)
    assert all(counts[level] >= 12 for level in ("emergency", "urgent", "routine", "self_care")), counts
    assert len({v["id"] for v in vignettes}) == len(vignettes)


def test_vignette_targets():
    s = score_vignettes.score(score_vignettes.load())
    assert s.recall("emergency") == 1.0, s.misses
    assert s.accuracy >= 0.90, s.misses
    assert s.self_care_to_emergency == 0, s.misses
