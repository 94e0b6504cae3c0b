"""Recall layer for emergencies: symptom features proposed from paraphrase.

    from bot.recall import propose
    propose("my little boy went stiff and then limp and wouldn't answer me")
    # {"seizure": 0.93, "loss_of_consciousness": 0.71, "spontaneous_clonus": 0.02, ...}

`propose(text)` returns, for EVERY feature in FEATURES (names exactly as bot/symptoms.py produces
them), the probability in [0, 1] that the text affirms the feature for the patient now. It is a
linear classifier (one logistic regression per feature) over hashed word and character n-grams
(bot/recall/featurize.py), trained by scripts/train_recall.py on generated lay phrasings in
patient and caregiver voice, WITH their negated, hypothetical, other-person and past variants as
negatives: "I don't have any sweating", "what if I had a seizure", "my uncle had a stroke" score low.

The text is scored sentence by sentence (clauses cut at "but"/"however"); a feature's probability
is its highest over the sentences. The rules stay the clinical arbiter: the layer only proposes
features, and a caller adds those at or above THRESHOLD to the engine's own before the rules run.

Guarantees: nothing is downloaded (the weights are bot/recall/model.npz in this repository, sha256
in model.json and checked at load); deterministic (no randomness, same output for the same text in
any process); never raises on odd input (an empty or non-string text gives every feature 0.0).
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, Tuple

from bot.recall.featurize import DIM, featurize, sentences
from bot.text_utils import clean

__all__ = ["FEATURES", "THRESHOLD", "propose", "proposed"]

_DIR = Path(__file__).resolve().parent
_MODEL = _DIR / "model.npz"
_META = _DIR / "model.json"


class RecallModelError(RuntimeError):
    """The model file is missing, damaged or does not match model.json."""


@lru_cache(maxsize=1)
def _model() -> Tuple[Tuple[str, ...], float, object, object]:
    import numpy as np  # local: only pay for numpy when the layer is used

    meta = json.loads(_META.read_text(encoding="utf-8"))
    raw = _MODEL.read_bytes()
    if hashlib.sha256(raw).hexdigest() != meta["sha256"]:
        raise RecallModelError(f"{_MODEL}: sha256 does not match {_META}; retrain with scripts/train_recall.py")
    if meta["dim"] != DIM:
        raise RecallModelError(f"{_MODEL}: trained with {meta['dim']} buckets, featurizer has {DIM}")
    with np.load(_MODEL) as data:
        # Column-major by bucket: one row of K weights per hash bucket, read by the features present.
        weights = np.ascontiguousarray(data["weights"].astype(np.float32).T)
        bias = data["bias"].astype(np.float64)
    return tuple(meta["features"]), float(meta["threshold"]), weights, bias


def _features() -> Tuple[str, ...]:
    return _model()[0]


FEATURES: Tuple[str, ...] = tuple(json.loads(_META.read_text(encoding="utf-8"))["features"])
THRESHOLD: float = float(json.loads(_META.read_text(encoding="utf-8"))["threshold"])


def _score(sentence: str):
    import numpy as np

    _, _, weights, bias = _model()
    vec = featurize(sentence)
    if not vec:
        return None
    idx = np.fromiter(vec.keys(), dtype=np.int64, count=len(vec))
    val = np.fromiter(vec.values(), dtype=np.float64, count=len(vec))
    z = val @ weights[idx].astype(np.float64) + bias
    return 1.0 / (1.0 + np.exp(-z))


@lru_cache(maxsize=4096)
def _propose(text: str) -> Tuple[Tuple[str, float], ...]:
    best = [0.0] * len(FEATURES)
    for sentence in sentences(text):
        probs = _score(sentence)
        if probs is None:
            continue
        for j, p in enumerate(probs):
            if p > best[j]:
                best[j] = float(p)
    return tuple((f, round(p, 6)) for f, p in zip(FEATURES, best, strict=True))


def propose(text: str) -> Dict[str, float]:
    """Probability per symptom feature (every name in FEATURES) that `text` affirms it now."""
    if not isinstance(text, str) or not text.strip():
        return {f: 0.0 for f in FEATURES}
    return dict(_propose(clean(text)))


def proposed(text: str, threshold: float = THRESHOLD) -> FrozenSet[str]:
    """The features whose probability is at least `threshold`."""
    return frozenset(f for f, p in propose(text).items() if p >= threshold and not math.isnan(p))
