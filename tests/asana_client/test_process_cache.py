"""Timed per-Asana caches: kept for their TTL, dropped when their Asana's runtime closes."""

from __future__ import annotations

from tools.asana.process_cache import ProcessCache, forget_asana


def test_kept_for_the_ttl_per_asana_and_forgotten_on_close() -> None:
    now = [0.0]
    cache: ProcessCache[int] = ProcessCache(ttl_s=10, clock=lambda: now[0])
    made: list[str] = []

    def make(tag: str) -> int:
        made.append(tag)
        return len(made)

    assert cache.get("http://a", "k", lambda: make("a1")) == 1
    assert cache.get("http://a", "k", lambda: make("a2")) == 1  # kept
    assert cache.get("http://b", "k", lambda: make("b1")) == 2  # another Asana, another entry
    now[0] = 11.0
    assert cache.get("http://a", "k", lambda: make("a3")) == 3  # older than the TTL: read again
    forget_asana("http://a")
    assert cache.get("http://a", "k", lambda: make("a4")) == 4
    assert cache.get("", "k", lambda: make("x")) == 5 and cache.get("", "k", lambda: make("y")) == 6
    assert made == ["a1", "b1", "a3", "a4", "x", "y"]
