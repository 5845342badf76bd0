"""Issue 22: the nearest-neighbour features of the MiniLM variant and the per-task settings the
eval and the saved engine share."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

import tools.sentiment.trained as trained
from evals.sentiment import LEXICON_WEIGHT, SELECTED, make_model
from tools.sentiment.trained import TrainedSentiment

TEXTS = ["thanks great", "great thanks a lot", "nice work thanks", "sorry my bad", "damn sorry", "oops sorry"]
LABELS = ["positive"] * 3 + ["negative"] * 3


def _fake_embed(texts: Sequence[str]) -> np.ndarray:
    # Unit vectors: "positive" words point one way, "negative" ones the other.
    rows = []
    for t in texts:
        v = np.array([1.0 + t.count("thanks") + t.count("great"), 1.0 + t.count("sorry"), 0.1 * len(t)])
        rows.append(v / np.linalg.norm(v))
    return np.asarray(rows, dtype=np.float32)


def test_neighbour_features_add_one_column_per_label_and_skip_the_text_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(trained, "_embed", _fake_embed)
    plain = TrainedSentiment(embeddings=True).fit(TEXTS, LABELS)
    knn = TrainedSentiment(embeddings=True, neighbours=2).fit(TEXTS, LABELS)
    assert knn.name == "tfidf+lexicon+minilm+knn" and plain.name == "tfidf+lexicon+minilm"
    assert knn._features(["x"], fit=False).shape[1] == plain._features(["x"], fit=False).shape[1] + 2
    vectors = _fake_embed(TEXTS)
    fitted = knn._neighbour_features(vectors, fit=True)
    unseen = knn._neighbour_features(vectors, fit=False)
    # As an unseen text a training text finds itself (cosine 1) among its own label's neighbours.
    assert np.all(unseen[:3, 1] > fitted[:3, 1]) and np.all(unseen[3:, 0] > fitted[3:, 0])
    assert knn.predict(["great thanks", "sorry, damn"]) == ["positive", "negative"]


def test_neighbours_need_embeddings() -> None:
    with pytest.raises(ValueError, match="embeddings"):
        TrainedSentiment(neighbours=5)


def test_make_model_uses_the_selected_settings_per_task() -> None:
    assert make_model("polarity", SELECTED["polarity"]).name == "tfidf+lexicon+style+minilm+knn+mid+lr"
    deva = make_model("deva", SELECTED["deva"])
    assert deva.name == "tfidf+lexicon" and deva.lexicon_weight == LEXICON_WEIGHT["deva"] != 0.35
    with pytest.raises(ValueError, match="unknown sentiment variant"):
        make_model("polarity", "bert")
