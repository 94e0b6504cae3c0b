"""The recall layer's contract (bot/recall): every feature, probabilities in [0, 1], deterministic,
never raises, weights from the repository only (checksum), wiring of featurizer and weights."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.recall import FEATURES, THRESHOLD, propose, proposed
from bot.symptoms import lexicon

ROOT = Path(__file__).resolve().parents[2]


def test_feature_names_are_the_engines():
    assert set(FEATURES) <= set(lexicon())
    assert {"self_harm", "seizure", "loss_of_consciousness", "spontaneous_clonus", "diaphoresis"} <= set(FEATURES)


@pytest.mark.parametrize("text", ["", "   ", None, 42, "🙂" * 50, "a" * 30000, "\x00\x01", ".!?;"])
def test_every_feature_in_range_and_never_raises(text):
    out = propose(text)
    assert set(out) == set(FEATURES)
    assert all(0.0 <= p <= 1.0 for p in out.values())


def test_deterministic_across_processes():
    text = "my son went stiff and then limp and wouldn't answer me, and he's sweating a lot"
    here = propose(text)
    code = "import json,sys; from bot.recall import propose; print(json.dumps(propose(sys.argv[1])))"
    other = json.loads(subprocess.run([sys.executable, "-c", code, text], capture_output=True, text=True, check=True,
                                      cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""}).stdout)
    assert other == pytest.approx(here, abs=1e-9)
    assert propose(text) == here


def test_weights_are_the_recorded_ones():
    import hashlib

    meta = json.loads((ROOT / "bot" / "recall" / "model.json").read_text())
    assert hashlib.sha256((ROOT / "bot" / "recall" / "model.npz").read_bytes()).hexdigest() == meta["sha256"]
    assert meta["features"] == list(FEATURES)


def test_affirmed_and_denied_are_told_apart():
    assert "seizure" in proposed("I had a seizure this morning")
    assert "seizure" not in proposed("no seizures")
    assert "self_harm" in proposed("I have been thinking about killing myself")
    assert "self_harm" not in proposed("I don't have any thoughts of suicide")
    assert "diaphoresis" in proposed("I am sweating buckets")
    assert not proposed("what time does the clinic open")


def test_each_sentence_counts():
    # A denial in one clause does not hide what another says.
    assert "seizure" in proposed("No fever. But he had a seizure an hour ago")
    assert 0.0 < THRESHOLD < 1.0
