"""Hashed n-gram features of one sentence, the same at training and at run time (no vocabulary file,
no randomness: crc32 of each n-gram, so a text always gives the same vector in any process)."""

from __future__ import annotations

import re
import zlib
from typing import Dict, List

#: Number of hash buckets (a power of two). Changing it needs a retrain (scripts/train_recall.py).
DIM = 1 << 15

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCE = re.compile(r"(?<=[.!?;\n])\s+|\n+|\s+(?:but|however|although|though)\s+", re.I)


def sentences(text: str) -> List[str]:
    """The parts of a message scored one by one: sentences, and clauses cut at "but"/"however"
    ("no fever but my legs keep jerking" is two parts)."""
    parts = [p.strip() for p in _SENTENCE.split(text) if p and p.strip()]
    return parts or [text.strip()]


_CONTRACTED = {"cant": ["can", "not"], "dont": ["do", "not"], "wont": ["will", "not"], "didnt": ["did", "not"],
               "doesnt": ["does", "not"], "isnt": ["is", "not"], "havent": ["have", "not"], "hasnt": ["has", "not"],
               "wasnt": ["was", "not"], "arent": ["are", "not"], "werent": ["were", "not"], "couldnt": ["could", "not"],
               "cannot": ["can", "not"], "im": ["i", "am"], "ive": ["i", "have"]}


def tokens(text: str) -> List[str]:
    """Lowercased words, with "n't" and apostrophe-less contractions ("dont", "cant") spelled out."""
    text = text.lower().replace("\u2019", "'").replace("n't", " not").replace("'m", " am").replace("'ve", " have")
    out: List[str] = []
    for w in _WORD.findall(text):
        out.extend(_CONTRACTED.get(w, [w]))
    return out


def _bucket(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8")) & (DIM - 1)


def featurize(text: str) -> Dict[int, float]:
    """Sparse L2-normalised vector: word 1-3-grams and character 3-5-grams inside words."""
    words = tokens(text)
    counts: Dict[int, float] = {}

    def add(feature: str, weight: float = 1.0) -> None:
        b = _bucket(feature)
        counts[b] = counts.get(b, 0.0) + weight

    padded = ["<s>"] + words + ["</s>"]
    for n in (1, 2, 3):
        for i in range(len(padded) - n + 1):
            add("w" + str(n) + ":" + " ".join(padded[i:i + n]))
    for w in words:
        marked = f"<{w}>"
        for n in (3, 4, 5):
            for i in range(len(marked) - n + 1):
                add("c:" + marked[i:i + n], 0.5)
    norm = sum(v * v for v in counts.values()) ** 0.5 or 1.0
    return {k: v / norm for k, v in counts.items()}
