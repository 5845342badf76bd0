"""The trained classifier: TF-IDF word + character n-grams, the lexicon's scores, optional sentence
embeddings, one linear SVM.

Fitted on labelled comments (any label set: polarity or emotions). Words are read after
`clean_text` (placeholders for issue keys, URLs, code, numbers) with negation scope marked;
characters catch spelling variants and emoticons; the lexicon features let a small training set
use what the offline engine knows. With ``embeddings=True`` the all-MiniLM-L6-v2 sentence vector
(tools/estimation/embeddings.py, optional model files) is appended: it adds meaning the n-grams
miss, at a few milliseconds per new text instead of a fraction of one.

With ``neighbours=k`` also, per label, the mean cosine similarity of the k nearest training texts
with that label.

With ``style=w`` six typographic cues (tools/sentiment/style.py), weighted w, are added.

With ``middle=w`` (needs `embeddings`) also the MiniLM vector of the first three layers
(tools/sentiment/layers.py), weighted w: earlier layers keep more of the wording that marks a mood.

With ``classifier="logreg"`` a multinomial logistic regression (balanced class weights) replaces the
one-vs-rest SVM on the same features: one model that weighs the three classes against each other.

With ``stacked=True`` the SVM's decision values are turned into the label by a multinomial logistic
regression (balanced class weights) fitted on out-of-fold decision values of the training texts
(5 inner folds, Wolpert 1992 stacking; Platt-style calibration of all classes jointly): it learns
how far apart the one-vs-rest scores of the classes are, which the arg-max of the raw scores
ignores. It costs six SVM fits instead of one and nothing at prediction time.

Hyper-parameters (C=0.8 for the SVM and 8 for the logistic regression, balanced class weights,
lexicon weight 0.35 — 0.6 for DEVA, embedding weight 1.0, 5 neighbours, style weight 0.5 and
middle-layer weight 1.5 for polarity) were chosen by 5-fold cross-validation with seeds 1 and 2 on
the shared training files (evals/sentiment.py `make_model`); the eval reports seed 20240601.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from tools.sentiment.model import LexiconSentiment, SentimentScore
from tools.sentiment.style import style_features
from tools.sentiment.text import clean_text, mark_negation

LEXICON_WEIGHT = 0.35
_EMBEDDING_WEIGHT = 1.0
_SAVE_BATCH = 64
_INNER_FOLDS = 5
_LOGREG_ITERATIONS = 3000
CLASSIFIERS = ("svm", "logreg")


def lexicon_features(
    model: LexiconSentiment, texts: Sequence[str], scores: Sequence[SentimentScore] | None = None
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """`scores`: the lexicon's scores of `texts` when the caller has them (else computed here)."""
    rows = []
    for s in model.analyse_many(texts) if scores is None else scores:
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
    return np.asarray(rows, dtype=float).reshape(len(rows), 6)


def _embed(texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
    # Imported here: the encoder's weights load only when an embeddings model is used.
    from tools.estimation.embeddings import shared_cache

    cache = shared_cache()
    vectors = cache.vectors(list(texts))
    if len(texts) >= _SAVE_BATCH:
        cache.save()  # rewriting the cache file per single text would cost more than encoding it
    return vectors


def _middle_embed(texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
    from tools.sentiment.layers import middle_vectors  # here: the weights load only when used

    return middle_vectors(texts, _SAVE_BATCH)


class TrainedSentiment:
    """fit(texts, labels) → predict(texts); labels are whatever strings the team uses."""

    def __init__(
        self,
        c: float = 0.8,
        seed: int = 0,
        embeddings: bool = False,
        lexicon_weight: float = LEXICON_WEIGHT,
        neighbours: int = 0,
        stacked: bool = False,
        style: float = 0.0,
        middle: float = 0.0,
        classifier: str = "svm",
    ) -> None:
        """`neighbours` > 0 (needs `embeddings`): also, per label, the mean cosine of the text's
        `neighbours` nearest training texts with that label (a training text is not its own
        neighbour): local structure of the sentence space that one linear boundary misses."""
        if neighbours and not embeddings:
            raise ValueError("neighbour features need the sentence embeddings")
        if middle and not embeddings:
            raise ValueError("the middle-layer vector needs the sentence embeddings")
        if classifier not in CLASSIFIERS:
            raise ValueError(f"classifier must be one of {CLASSIFIERS}, got {classifier!r}")
        self.c = c
        self.seed = seed
        self.embeddings = embeddings
        self.lexicon_weight = lexicon_weight
        self.neighbours = neighbours
        self.stacked = stacked
        self.style = style
        self.middle = middle
        self.classifier = classifier
        self.meta: LogisticRegression | None = None
        self._train_vectors: np.ndarray[Any, np.dtype[np.float32]] | None = None
        self._train_labels: np.ndarray[Any, np.dtype[np.str_]] | None = None
        self.lexicon = LexiconSentiment()
        self.words = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, lowercase=False, token_pattern=r"\S+"
        )
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
        # Balanced class weights: macro-F1 weighs the rare classes (DEVA's Stress, Relax) as much as the rest.
        self.clf: LinearSVC | LogisticRegression = (
            LinearSVC(C=c, class_weight="balanced", random_state=seed)
            if classifier == "svm"
            else LogisticRegression(C=c, class_weight="balanced", max_iter=_LOGREG_ITERATIONS)
        )
        self.fitted = False

    @property
    def name(self) -> str:
        name = "tfidf+lexicon+style" if getattr(self, "style", 0.0) else "tfidf+lexicon"
        if self.embeddings:
            name += "+minilm+knn" if getattr(self, "neighbours", 0) else "+minilm"
            name += "+mid" if getattr(self, "middle", 0.0) else ""
        name += "+lr" if getattr(self, "classifier", "svm") == "logreg" else ""
        return name + "+stack" if getattr(self, "stacked", False) else name

    def _plain(self) -> TrainedSentiment:
        """An unfitted copy with the same settings and no stacking (one inner-fold model)."""
        return TrainedSentiment(
            self.c,
            self.seed,
            self.embeddings,
            self.lexicon_weight,
            self.neighbours,
            style=self.style,
            middle=getattr(self, "middle", 0.0),
            classifier=getattr(self, "classifier", "svm"),
        )

    def _neighbour_features(
        self, vectors: np.ndarray[Any, np.dtype[np.float32]], fit: bool
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        assert self._train_vectors is not None and self._train_labels is not None
        sims = vectors @ self._train_vectors.T
        if fit:
            np.fill_diagonal(sims, -1.0)  # a training text is not its own neighbour
        columns = []
        for label in sorted(set(self._train_labels.tolist())):
            own = sims[:, self._train_labels == label]
            k = min(self.neighbours, own.shape[1])
            columns.append(np.sort(own, axis=1)[:, -k:].mean(axis=1))
        return np.stack(columns, axis=1).astype(np.float64)

    def _features(
        self, texts: Sequence[str], fit: bool, lexicon: Sequence[SentimentScore] | None = None
    ) -> Any:
        cleaned = [clean_text(t) for t in texts]
        marked = [mark_negation(t) for t in cleaned]
        if fit:
            w, ch = self.words.fit_transform(marked), self.chars.fit_transform(cleaned)
        else:
            w, ch = self.words.transform(marked), self.chars.transform(cleaned)
        weight = getattr(self, "lexicon_weight", LEXICON_WEIGHT)  # engines saved before it was a setting
        parts = [w, ch, sparse.csr_matrix(lexicon_features(self.lexicon, texts, lexicon) * weight)]
        style = getattr(self, "style", 0.0)
        if style:
            parts.append(sparse.csr_matrix(style_features(texts) * style))
        if self.embeddings:
            vectors = _embed(texts)
            parts.append(sparse.csr_matrix(vectors * _EMBEDDING_WEIGHT))
            if getattr(self, "neighbours", 0):
                if fit:
                    self._train_vectors = vectors
                parts.append(sparse.csr_matrix(self._neighbour_features(vectors, fit)))
            middle = getattr(self, "middle", 0.0)  # engines saved before it existed have none
            if middle:
                parts.append(sparse.csr_matrix(_middle_embed(texts) * middle))
        return sparse.hstack(parts).tocsr()

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TrainedSentiment:
        if len(set(labels)) < 2:
            raise ValueError("training needs at least two different labels")
        texts, labels = list(texts), list(labels)
        # Stacking needs two inner folds, so at least two examples of every label.
        stack = getattr(self, "stacked", False) and min(labels.count(c) for c in set(labels)) >= 2
        self.meta = self._fit_meta(texts, labels) if stack else None
        self._train_labels = np.asarray(labels, dtype=str)
        self.clf.fit(self._features(texts, fit=True), labels)
        self.fitted = True
        return self

    def _fit_meta(self, texts: list[str], labels: list[str]) -> LogisticRegression:
        """The stacking layer, fitted on decision values of texts each inner model never saw."""
        smallest = min(labels.count(c) for c in set(labels))
        folds = StratifiedKFold(n_splits=min(_INNER_FOLDS, smallest), shuffle=True, random_state=self.seed)
        classes = sorted(set(labels))
        scores = np.zeros((len(texts), len(classes)))
        for train_idx, test_idx in folds.split(texts, labels):
            inner = self._plain().fit([texts[i] for i in train_idx], [labels[i] for i in train_idx])
            scores[test_idx] = inner.decision([texts[i] for i in test_idx])
        return LogisticRegression(class_weight="balanced", max_iter=2000).fit(scores, labels)

    def decision(self, texts: Sequence[str], lexicon: Sequence[SentimentScore] | None = None) -> Any:
        """The classifier's decision values (the SVM's are one-vs-rest), one column per label in sorted
        order (two labels: a column for each, the second the model's value and the first its negation)."""
        values = self.clf.decision_function(self._features(list(texts), fit=False, lexicon=lexicon))
        return np.column_stack([-values, values]) if values.ndim == 1 else values

    def predict(self, texts: Sequence[str], lexicon: Sequence[SentimentScore] | None = None) -> list[str]:
        """`lexicon`: the default lexicon's scores of `texts`, when the caller has them."""
        if not self.fitted:
            raise RuntimeError("the classifier is not trained; call fit() first")
        if not texts:
            return []
        meta = getattr(self, "meta", None)  # engines saved before stacking existed have none
        if meta is not None:
            return [str(x) for x in meta.predict(self.decision(texts, lexicon))]
        return [str(x) for x in self.clf.predict(self._features(list(texts), fit=False, lexicon=lexicon))]

    def save(self, path: Path) -> None:
        path.write_bytes(pickle.dumps(self))

    @staticmethod
    def load(path: Path) -> TrainedSentiment:
        return load_saved(path, TrainedSentiment, "a TrainedSentiment model")


T = TypeVar("T")


def load_saved(path: Path, kind: type[T], what: str) -> T:
    """An object saved with pickle (`save`), checked to be a `kind`. Only load files you saved
    yourself: pickle runs code from the file."""
    obj = pickle.loads(path.read_bytes())
    if not isinstance(obj, kind):
        raise TypeError(f"{path} does not hold {what}")
    return obj
