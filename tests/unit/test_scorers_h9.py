"""The scorers compare a set's medicine names in the knowledge base's words (issue 9): a set may label a
medicine by any alias the base knows ("same" for SAMe), which is naming, not recognition."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("score_medicines", ROOT / "scripts" / "score_medicines.py")
score_medicines = importlib.util.module_from_spec(_spec)
sys.modules["score_medicines"] = score_medicines
_spec.loader.exec_module(score_medicines)


def test_a_label_written_as_a_known_alias_is_the_canonical_name():
    assert score_medicines.canonical("same") == "s-adenosylmethionine"
    assert score_medicines.canonical("St Johns Wort") == "st john's wort"
    assert score_medicines.canonical("sertraline") == "sertraline"
    assert score_medicines.canonical("zelvorin") == "zelvorin"  # unknown names are kept as written


def test_expected_pairs_use_the_canonical_name():
    item = {"mentions": [{"name": "same", "status": "current"}, {"name": "prozac", "status": "past"}]}
    assert score_medicines.expected_pairs(item) == {("s-adenosylmethionine", True), ("fluoxetine", False)}
