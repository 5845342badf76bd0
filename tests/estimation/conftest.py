"""Keep the embedding cache out of the user's cache dir and fresh for every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.estimation.embeddings import CACHE_ENV, shared_cache


@pytest.fixture(autouse=True)
def _private_embedding_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    shared_cache.cache_clear()
    yield
    shared_cache.cache_clear()
