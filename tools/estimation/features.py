"""Text representations that are computed once per task and never refitted.

A fitted TF-IDF vocabulary would change with every new task, forcing a rebuild. Instead each task is
hashed into fixed-size word (1-2 gram) and character (3-5 gram) term-frequency rows; the IDF weights
come from document frequencies that are updated incrementally, and are applied at query time. So adding
tasks one at a time gives exactly the same index as building it in one go.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

WORD_FEATURES = 2**20
CHAR_FEATURES = 2**20


def task_text(title: str, description: str, *, title_weight: int, max_chars: int) -> str:
    # The title carries most of the signal; repeating it weights it against long descriptions.
    return " ".join([title.strip()] * title_weight + [description[:max_chars]])


class TextHasher:
    """Stateless: the same text always maps to the same two sparse rows."""

    def __init__(self) -> None:
        common = {"alternate_sign": False, "norm": None, "lowercase": True, "dtype": np.float64}
        self._word = HashingVectorizer(
            ngram_range=(1, 2), stop_words="english", n_features=WORD_FEATURES, **common
        )
        self._char = HashingVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), n_features=CHAR_FEATURES, **common
        )

    def transform(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Sublinear term-frequency rows (word, char)."""
        word, char = self.counts(texts)
        return _with_data(word, sublinear(word.data)), _with_data(char, sublinear(char.data))

    def counts(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Raw term counts (word, char): canonical rows, integers stored as float64."""
        return _canonical(self._word.transform(texts)), _canonical(self._char.transform(texts))


def _canonical(matrix: sp.spmatrix) -> sp.csr_matrix:
    out = sp.csr_matrix(matrix, dtype=np.float64)
    out.sum_duplicates()
    out.eliminate_zeros()
    return out


def _with_data(matrix: sp.csr_matrix, data: np.ndarray) -> sp.csr_matrix:
    return sp.csr_matrix((data, matrix.indices, matrix.indptr), shape=matrix.shape)


def sublinear(counts: np.ndarray) -> np.ndarray:
    """Sublinear tf, 1 + log(tf), as TfidfVectorizer(sublinear_tf=True); elementwise, so a row's values
    do not depend on the rows computed with it."""
    out = np.log(np.asarray(counts, dtype=np.float64))
    out += 1.0
    return out


def presence_counts(block: sp.csr_matrix) -> np.ndarray:
    """How many rows contain each feature (document frequency contribution)."""
    return np.bincount(block.indices, minlength=block.shape[1]).astype(np.int64)


def idf_weights(df: np.ndarray, n_docs: int, min_df: int) -> np.ndarray:
    """Smoothed IDF as in scikit-learn, zero for terms rarer than min_df (they cannot link two tasks)."""
    idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
    idf[df < min_df] = 0.0
    return idf
