"""Two processes sharing the embedding cache file: a save merges what the other saved, never drops it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.estimation.test_embeddings import FakeEncoder
from tools.estimation.embeddings import EmbeddingCache


def test_a_save_keeps_vectors_another_cache_saved(tmp_path: Path) -> None:
    first = EmbeddingCache(FakeEncoder(), tmp_path)  # type: ignore[arg-type]
    second = EmbeddingCache(FakeEncoder(), tmp_path)  # type: ignore[arg-type]  # both read an empty dir
    first.vectors(["alpha task", "beta task"])
    first.save(force=True)
    second.vectors(["gamma task"])
    second.save(force=True)  # without the merge this would write only "gamma task"
    reader_encoder = FakeEncoder()
    reader = EmbeddingCache(reader_encoder, tmp_path)  # type: ignore[arg-type]
    assert len(reader) == 3
    got = reader.vectors(["alpha task", "beta task", "gamma task"])
    assert reader_encoder.encoded == []  # all three came from the file
    np.testing.assert_array_equal(got[0], first.vectors(["alpha task"])[0])
    assert not list(tmp_path.glob("*.tmp.npz"))  # the temporary file was renamed into place


def test_a_damaged_file_is_replaced_not_fatal(tmp_path: Path) -> None:
    cache = EmbeddingCache(FakeEncoder(), tmp_path)  # type: ignore[arg-type]
    cache.path.parent.mkdir(parents=True, exist_ok=True)
    cache.path.write_bytes(b"not an npz")
    cache.vectors(["delta task"])
    cache.save(force=True)
    assert len(EmbeddingCache(FakeEncoder(), tmp_path)) == 1  # type: ignore[arg-type]
