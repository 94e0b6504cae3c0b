"""NLU quality on the held-out tests/nlu_test.yml, and the dialogue test stories, evaluated with
`rasa test` against the trained model (no server needed)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import ROOT

MACRO_F1_MIN = 0.90
INTENT_F1_MIN = 0.80


@pytest.fixture(scope="module")
def nlu_report(trained_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("nlu-results")
    subprocess.run(
        [str(ROOT / ".venv/bin/rasa"), "test", "nlu", "--nlu", str(ROOT / "tests/nlu_test.yml"),
         "--model", str(trained_model), "--out", str(out), "--no-plot", "--quiet"],
        cwd=ROOT, check=True,
    )
    return json.loads((out / "intent_report.json").read_text())


def test_intent_macro_f1_on_held_out_messages(nlu_report):
    macro = nlu_report["macro avg"]["f1-score"]
    assert macro >= MACRO_F1_MIN, f"intent macro-F1 {macro:.3f} < {MACRO_F1_MIN}"


def test_every_intent_f1_on_held_out_messages(nlu_report):
    per_intent = {
        name: scores["f1-score"]
        for name, scores in nlu_report.items()
        if isinstance(scores, dict) and "f1-score" in scores and name not in {"macro avg", "weighted avg", "micro avg", "accuracy"}
    }
    assert len(per_intent) >= 16, sorted(per_intent)
    weak = {name: round(f1, 3) for name, f1 in per_intent.items() if f1 < INTENT_F1_MIN}
    assert not weak, f"intents below F1 {INTENT_F1_MIN}: {weak}"


def test_dialogue_test_stories(trained_model, tmp_path):
    result = subprocess.run(
        [str(ROOT / ".venv/bin/rasa"), "test", "core", "--stories", str(ROOT / "tests/test_stories.yml"),
         "--model", str(trained_model), "--out", str(tmp_path), "--fail-on-prediction-errors", "--no-plot"],
        cwd=ROOT, capture_output=True, text=True,
    )
    failed = tmp_path / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}\n{detail}"
    assert not detail.strip() or "None of the test stories failed" in detail, detail


def test_there_are_enough_test_stories():
    import yaml

    stories = yaml.safe_load((ROOT / "tests/test_stories.yml").read_text())["stories"]
    names = [s["story"] for s in stories]
    assert len(names) >= 25 and len(set(names)) == len(names)
