"""The optional trained classifier: TF-IDF word + character n-grams plus the lexicon's scores.

Fitted on a team's own labelled comments (any label set: polarity or emotions). The lexicon
features let a small training set still use what the offline engine knows; the character n-grams
catch spelling variants and emoticons. scikit-learn only, a few seconds to fit on ~2k comments.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from tools.sentiment.model import LexiconSentiment

_LEXICON_WEIGHT = 0.35


def _lexicon_features(model: LexiconSentiment, texts: Sequence[str]) -> sparse.csr_matrix:
    rows = []
    for t in texts:
        s = model.analyse(t)
        rows.append(
            [
                np.tanh(s.positive / 3.0),
                np.tanh(s.negative / 3.0),
                np.tanh(s.score / 3.0),
                np.tanh(s.arousal / 2.0),
                1.0 if s.label == "positive" else 0.0,
                1.0 if s.label == "negative" else 0.0,
            ]
        )
    return sparse.csr_matrix(np.asarray(rows, dtype=float) * _LEXICON_WEIGHT)


class TrainedSentiment:
    """fit(texts, labels) → predict(texts); labels are whatever strings the team uses."""

    def __init__(self, c: float = 0.4, seed: int = 0) -> None:
        self.c = c
        self.seed = seed
        self.lexicon = LexiconSentiment()
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
        self.clf = LinearSVC(C=c, random_state=seed)
        self.fitted = False

    def _features(self, texts: Sequence[str], fit: bool) -> Any:
        if fit:
            w = self.words.fit_transform(texts)
            ch = self.chars.fit_transform(texts)
        else:
            w = self.words.transform(texts)
            ch = self.chars.transform(texts)
        return sparse.hstack([w, ch, _lexicon_features(self.lexicon, texts)]).tocsr()

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TrainedSentiment:
        if len(set(labels)) < 2:
            raise ValueError("training needs at least two different labels")
        self.clf.fit(self._features(list(texts), fit=True), list(labels))
        self.fitted = True
        return self

    def predict(self, texts: Sequence[str]) -> list[str]:
        if not self.fitted:
            raise RuntimeError("the classifier is not trained; call fit() first")
        return [str(x) for x in self.clf.predict(self._features(list(texts), fit=False))]

    def save(self, path: Path) -> None:
        path.write_bytes(pickle.dumps(self))

    @staticmethod
    def load(path: Path) -> TrainedSentiment:
        # Only load models you trained yourself: pickle runs code from the file.
        obj = pickle.loads(path.read_bytes())
        if not isinstance(obj, TrainedSentiment):
            raise TypeError(f"{path} does not hold a TrainedSentiment model")
        return obj
