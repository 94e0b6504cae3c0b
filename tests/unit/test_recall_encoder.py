"""The embedding reader of the recall layer: bot/recall/encoder.py computes exactly what
sentence-transformers computes for all-MiniLM-L6-v2, from the registry package's weights only, and
bot/recall/embed.py keeps the recall layer's contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.recall import FEATURES as NGRAM_FEATURES
from bot.recall import embed, encoder
from bot.symptoms import lexicon

DATA = Path(__file__).resolve().parent / "data" / "minilm_reference.json"


def test_embeddings_are_sentence_transformers_own():
    ref = json.loads(DATA.read_text(encoding="utf-8"))
    got = encoder.encode(ref["sentences"])
    want = np.asarray(ref["embeddings"], dtype=np.float64)
    assert got.shape == want.shape == (len(ref["sentences"]), encoder.DIM)
    cosine = (got * want).sum(axis=1) / np.linalg.norm(want, axis=1)
    assert cosine.min() > 0.9999
    assert np.abs(got - want).max() < 1e-4


def test_the_weights_are_the_packaged_ones(tmp_path):
    # A weights file that is not the package's is refused, not used.
    src = encoder.model_dir()
    for item in src.rglob("*"):
        if item.is_file() and item.name != "model.safetensors":
            dest = tmp_path / item.relative_to(src)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(item.read_bytes())
    (tmp_path / "model.safetensors").write_bytes(b"not the model")
    with pytest.raises(encoder.EncoderError, match="sha256"):
        encoder._Model(tmp_path)  # noqa: SLF001


def test_one_length_batches_give_the_same_vectors_as_one_at_a_time():
    texts = ["my legs keep jerking", "he wont wake up", "my legs keep jerking", "ok", "drenched in sweat all night long"]
    together = encoder.encode(texts)
    for i, text in enumerate(texts):
        assert np.allclose(encoder.encode([text])[0], together[i], atol=1e-5)


def test_embed_reader_contract():
    assert set(NGRAM_FEATURES) <= set(embed.FEATURES) <= set(lexicon())
    for text in ["", "   ", None, 42, "🙂" * 40, "a" * 20000, ".!?;"]:
        out = embed.propose(text)
        assert set(out) == set(embed.FEATURES)
        assert all(0.0 <= p <= 1.0 for p in out.values())


def test_embed_weights_are_the_recorded_ones():
    import hashlib

    meta = json.loads((Path(embed.__file__).parent / "embed.json").read_text(encoding="utf-8"))
    assert hashlib.sha256((Path(embed.__file__).parent / "embed.npz").read_bytes()).hexdigest() == meta["sha256"]
    assert encoder.MODEL_SHA256 in meta["encoder"]


@pytest.mark.parametrize(
    "text, feature",
    [
        # My own phrasings, none in bot/recall/training or any evaluation set.
        ("my grandpa just crumpled onto the rug and isnt reacting to anything we say", "unresponsive"),
        pytest.param(
            "she keeps saying the world would be lighter without her in it", "self_harm",
            # Known gap (2026-12-04): 0.03, while "...would be better without her" gives 0.93; the whole engine
            # misses it too (self_care). Strict: this fails loudly once a reader catches it.
            marks=pytest.mark.xfail(strict=True, reason="passive death wish told about a relation, unusual wording"),
        ),
        ("his pupils are zigzagging left right left right nonstop", "ocular_clonus"),
        pytest.param(
            "my tshirt is wringing wet and im just lying on the couch", "diaphoresis",
            # Known gap (2026-12-04): below 0.5 although "drenched"/"soaked" phrasings are caught. Strict.
            marks=pytest.mark.xfail(strict=True, reason="sweating told by its effect on clothing, unusual wording"),
        ),
        ("cant pull enough air in, feels like breathing through a straw", "breathing_trouble"),
    ],
)
def test_paraphrases_the_lexicon_was_not_written_for(text, feature):
    assert embed.propose(text)[feature] >= 0.5


@pytest.mark.parametrize(
    "text",
    ["what time do you open on tuesday", "thanks so much, see you next week", "can i bring my wife to the appointment"],
)
def test_ordinary_clinic_messages_raise_nothing(text):
    assert max(embed.propose(text).values()) < 0.5


@pytest.mark.parametrize(
    "text",
    ["book me for my botox injections", "why do i have to go now", "id like to see dr patel next week",
     "ok im done for now, thanks bye", "can you move my botox appointment to friday", "that's all for today"],
)
def test_everyday_requests_are_not_read_as_self_harm(text):
    """Booking, goodbyes and questions are negatives of every head (scripts/train_recall_embed.py,
    EVERYDAY_INTENTS), and the reader's self_harm threshold is bot.triage.EMBED_THRESHOLDS; before,
    short requests like the first two were RF-SELF-HARM (0.90 and 0.92)."""
    from bot.triage import assess

    assert "RF-SELF-HARM" not in [f.id for f in assess([text]).red_flags]
