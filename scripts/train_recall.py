#!/usr/bin/env python
"""Train the recall layer (bot/recall) on generated lay phrasings (scripts/recall_data.py) and write
bot/recall/model.npz and bot/recall/model.json (features, threshold, training figures, sha256).

    .venv/bin/python scripts/train_recall.py

Deterministic: the same data (fixed seeds) and a deterministic solver (liblinear) give the same
weights. One logistic regression per feature over hashed word and character n-grams.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import recall_data  # noqa: E402

from bot.recall.featurize import DIM, featurize  # noqa: E402

OUT = ROOT / "bot" / "recall"
THRESHOLD = float(os.environ.get("RECALL_THRESHOLD", "0.3"))
C = float(os.environ.get("RECALL_C", "2.0"))
POSITIVE_WEIGHT = float(os.environ.get("RECALL_POS_WEIGHT", "4.0"))


def matrix(rows):
    data, indices, indptr = [], [], [0]
    for text, _ in rows:
        vec = featurize(text)
        for k in sorted(vec):
            indices.append(k)
            data.append(vec[k])
        indptr.append(len(indices))
    return csr_matrix((np.array(data, dtype=np.float64), np.array(indices), np.array(indptr)), shape=(len(rows), DIM))


def figures(probs, rows, features, threshold):
    out = {}
    for j, f in enumerate(features):
        y = np.array([labels.get(f, 0) for _, labels in rows])
        p = probs[:, j] >= threshold
        tp = int((p & (y == 1)).sum())
        fp = int((p & (y == 0)).sum())
        fn = int((~p & (y == 1)).sum())
        out[f] = {"recall": round(tp / max(1, tp + fn), 3), "precision": round(tp / max(1, tp + fp), 3), "positives": int(y.sum())}
    return out


def fit(x, rows, features):
    weights = np.zeros((len(features), DIM), dtype=np.float32)
    bias = np.zeros(len(features), dtype=np.float32)
    for j, f in enumerate(features):
        y = np.array([labels.get(f, 0) for _, labels in rows])
        model = LogisticRegression(C=C, solver="liblinear", class_weight={0: 1.0, 1: POSITIVE_WEIGHT}, max_iter=1000)
        model.fit(x, y)
        weights[j] = model.coef_[0].astype(np.float32)
        bias[j] = np.float32(model.intercept_[0])
    return weights, bias


def main() -> int:
    t0 = time.time()
    train, valid = recall_data.datasets()
    features = list(recall_data.FEATURES)
    x_valid = matrix(valid)
    weights, bias = fit(matrix(train), train, features)
    probs = 1.0 / (1.0 + np.exp(-(x_valid @ weights.T.astype(np.float64) + bias)))
    valid_figures = figures(probs, valid, features, THRESHOLD)
    # The model that ships reads every phrase (the held-out ones too): the figures above are those
    # of the same recipe on phrases it had not read.
    full = recall_data.full_dataset()
    weights, bias = fit(matrix(full), full, features)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "model.npz", weights=weights.astype(np.float16), bias=bias)
    digest = hashlib.sha256((OUT / "model.npz").read_bytes()).hexdigest()
    meta = {
        "features": features,
        "dim": DIM,
        "threshold": THRESHOLD,
        "trained_on": f"{len(full)} generated sentences from every phrase (scripts/recall_data.py, seeds fixed)",
        "validation_recipe": f"trained on {len(train)} sentences from 3/4 of the phrases, validated on sentences from the other 1/4",
        "validation_sentences": len(valid),
        "validation_held_out_phrases": valid_figures,
        "sha256": digest,
    }
    (OUT / "model.json").write_text(json.dumps(meta, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    any_fp = probs.max(axis=1) >= THRESHOLD
    unlabelled = np.array([not labels for _, labels in valid])
    meta["validation_not_affirmed_sentences_with_any_feature"] = round(float((any_fp & unlabelled).sum() / max(1, unlabelled.sum())), 3)
    meta["validation_macro_recall"] = round(float(np.mean([v["recall"] for v in valid_figures.values()])), 3)
    (OUT / "model.json").write_text(json.dumps(meta, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print("macro recall", meta["validation_macro_recall"], "not-affirmed sentences with a feature", meta["validation_not_affirmed_sentences_with_any_feature"])
    for f, v in valid_figures.items():
        print(f"{f:24s} recall {v['recall']:.3f} precision {v['precision']:.3f} (n={v['positives']})")
    print(f"train {len(train)} valid {len(valid)}; {time.time() - t0:.1f} s; sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
