"""A middle-layer sentence vector of all-MiniLM-L6-v2 for the trained sentiment classifier.

The sentence vector the rest of the product uses is the mean of the *last* layer's token states,
which the model was tuned to make good for semantic similarity. Earlier layers keep more of the
surface and word-level information (Jawahar et al., "What does BERT learn about the structure of
language?", ACL 2019; Tenney et al., "BERT rediscovers the classical NLP pipeline", ACL 2019),
which is much of what marks a comment's mood. The mean of the token states after the first
`MIDDLE_LAYERS` of the six layers, L2-normalised, is that vector: the same shipped weights, the same
pooling, half the encoder run. It is cached by text like the main vectors, in its own file.

Chosen on the shared polarity file by 5-fold CV with seeds 1 and 2 (README "sentiment"): added to
the previous polarity variant (0.8985) at weight 1, the vector after layer 1..5 gave 0.8998, 0.9010,
0.9030, 0.9013, 0.8987; layer 3 at weight 0.5/0.75/1.5/2 gave 0.9015/0.9020/0.9052/0.9050.
"""

from __future__ import annotations

import atexit
import copy
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

MIDDLE_LAYERS = 3


def truncated_encoder(encoder: Any, layers: int) -> Any:
    """A copy of a MiniLM encoder that runs only its first `layers` layers (same weights, shared
    not copied) and names its vectors apart, so a cache never mixes them with full ones."""
    if not 1 <= layers <= encoder.layers:
        raise ValueError(f"layers must be 1..{encoder.layers}, got {layers}")
    short = copy.copy(encoder)
    short.layers = layers
    short.model_id = f"{encoder.model_id}-layers{layers}"
    return short


@lru_cache(maxsize=1)
def middle_cache() -> Any:
    """One cache per process of the middle-layer vectors; raises if the weights are not installed.
    Imported lazily: the encoder's weights load only when a model uses these vectors."""
    from tools.estimation.embeddings import EmbeddingCache, find_model_dir, shared_encoder

    cache = EmbeddingCache(truncated_encoder(shared_encoder(find_model_dir()), MIDDLE_LAYERS))
    atexit.register(cache.save, force=True)
    return cache


def middle_vectors(texts: Sequence[str], save_batch: int = 64) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Unit vectors (one row per text) of the first `MIDDLE_LAYERS` layers' mean token state."""
    cache = middle_cache()
    vectors: np.ndarray[Any, np.dtype[np.float32]] = cache.vectors(list(texts))
    if len(texts) >= save_batch:
        cache.save()  # rewriting the cache file per single text would cost more than encoding it
    return vectors
