"""Issue 22: the MiniLM middle-layer vector (+mid) and the logistic regression (+lr) of the trained
polarity classifier."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np
import pytest

import tools.sentiment.trained as trained
from evals.sentiment import LOGREG_C, MIDDLE_WEIGHT, PREVIOUS, SELECTED, SVM_C, make_model, variants_to_run
from tools.sentiment.layers import MIDDLE_LAYERS, truncated_encoder
from tools.sentiment.trained import TrainedSentiment

TEXTS = ["thanks great", "great thanks a lot", "nice work thanks", "sorry my bad", "damn sorry", "oops sorry"]
LABELS = ["positive"] * 3 + ["negative"] * 3


def _unit_rows(texts: Sequence[str], dim: int, salt: int) -> np.ndarray:
    rows = [np.cos(np.arange(dim) * (len(t) + salt) + t.count("thanks")) + 1.5 for t in texts]
    out = np.asarray(rows, dtype=np.float32)
    unit: np.ndarray = out / np.linalg.norm(out, axis=1, keepdims=True)
    return unit


def test_truncated_encoder_runs_fewer_layers_on_the_same_weights_under_its_own_name() -> None:
    weights = {"w": np.ones(2)}
    full = SimpleNamespace(layers=6, model_id="minilm-abc", w=weights)
    short = truncated_encoder(full, 3)
    assert short.layers == 3 and full.layers == 6
    assert short.model_id == "minilm-abc-layers3" != full.model_id
    assert short.w is weights  # shared, not copied
    for bad in (0, 7):
        with pytest.raises(ValueError, match="layers"):
            truncated_encoder(full, bad)


def test_middle_vector_adds_its_columns_and_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trained, "_embed", lambda texts: _unit_rows(texts, 8, 0))
    calls: list[int] = []

    def fake_middle(texts: Sequence[str]) -> np.ndarray:
        calls.append(len(texts))
        return _unit_rows(texts, 5, 1)

    monkeypatch.setattr(trained, "_middle_embed", fake_middle)
    plain = TrainedSentiment(embeddings=True, neighbours=2).fit(TEXTS, LABELS)
    mid = TrainedSentiment(embeddings=True, neighbours=2, middle=1.0).fit(TEXTS, LABELS)
    assert mid.name == "tfidf+lexicon+minilm+knn+mid" and plain.name == "tfidf+lexicon+minilm+knn"
    assert mid._features(["x"], fit=False).shape[1] == plain._features(["x"], fit=False).shape[1] + 5
    assert mid.predict(["great thanks", "sorry, damn"]) == ["positive", "negative"]
    assert calls and not any(c == 0 for c in calls)
    double = TrainedSentiment(embeddings=True, neighbours=2, middle=2.0).fit(TEXTS, LABELS)
    tail_one = mid._features(["x y"], fit=False).toarray()[0, -5:]
    tail_two = double._features(["x y"], fit=False).toarray()[0, -5:]
    np.testing.assert_allclose(tail_two, 2.0 * tail_one)  # the weight scales the vector's columns
    # An engine saved before the setting existed has no attribute: it reads as off.
    del plain.__dict__["middle"]
    before = len(calls)
    assert plain.name == "tfidf+lexicon+minilm+knn" and len(plain.predict(["thanks"])) == 1
    assert len(calls) == before


def test_middle_vector_needs_embeddings() -> None:
    with pytest.raises(ValueError, match="embeddings"):
        TrainedSentiment(middle=1.0)


def test_polarity_reports_the_middle_layer_variant_and_still_prints_the_one_it_replaced() -> None:
    model = make_model("polarity", SELECTED["polarity"])
    assert model.middle == MIDDLE_WEIGHT and model.embeddings and model.neighbours and model.style
    assert model.classifier == "logreg" and model.c == LOGREG_C
    assert make_model("polarity", PREVIOUS["polarity"][-1]).c == SVM_C
    assert not make_model("deva", SELECTED["deva"]).middle
    names = variants_to_run("polarity", embeddings=True)
    assert names[-3:] == [*PREVIOUS["polarity"], SELECTED["polarity"]]
    assert variants_to_run("polarity", embeddings=False) == ["tfidf+lexicon"]
    assert "mid" not in "+".join(variants_to_run("deva", embeddings=True))


def test_real_encoder_truncated_to_all_layers_matches_the_sentence_vector() -> None:
    from tools.estimation.embeddings import available, find_model_dir, shared_encoder

    if not available():
        pytest.skip("the MiniLM model files are not installed")
    encoder = shared_encoder(find_model_dir())
    texts = ["Thanks, great work!", "This keeps failing, so annoying."]
    full = encoder.encode(texts)
    np.testing.assert_allclose(truncated_encoder(encoder, encoder.layers).encode(texts), full, atol=1e-6)
    middle = truncated_encoder(encoder, MIDDLE_LAYERS).encode(texts)
    np.testing.assert_allclose(np.linalg.norm(middle, axis=1), 1.0, atol=1e-5)
    assert np.abs(middle - full).max() > 0.05  # a different vector, not the last layer's


def test_logistic_regression_replaces_the_svm_on_the_same_features() -> None:
    svm = TrainedSentiment().fit(TEXTS, LABELS)
    logreg = TrainedSentiment(c=8.0, classifier="logreg").fit(TEXTS, LABELS)
    assert logreg.name == "tfidf+lexicon+lr" and svm.name == "tfidf+lexicon"
    assert type(logreg.clf).__name__ == "LogisticRegression" and type(svm.clf).__name__ == "LinearSVC"
    assert logreg._features(["x"], fit=False).shape == svm._features(["x"], fit=False).shape
    assert logreg.predict(["great, thanks a lot", "sorry, damn"]) == ["positive", "negative"]
    assert logreg.decision(["thanks"]).shape == (1, 2)
    with pytest.raises(ValueError, match="classifier"):
        TrainedSentiment(classifier="forest")
    del svm.__dict__["classifier"]  # an engine saved before the setting existed
    assert svm.name == "tfidf+lexicon" and svm.predict(["thanks"]) == ["positive"]
