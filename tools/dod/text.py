"""Deterministic text similarity: tokens with light stemming, TF-IDF weights, cosine.

The corpus is one task's own documents (criteria plus evidence items), so words that appear
everywhere in that task ("user", "page") weigh less than the specific ones ("password", "reset").
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_STOP_TEXT = """
    a an and are as at be been by can could do does for from has have he her his i if in into is it
    its it's me my no not of on or our she should so than that the their them then there these they this
    to too us was we were what when where which while who will with would you your shall must may any all
    each every given then also only just via per after before"""
STOPWORDS = frozenset(_STOP_TEXT.split())
_SUFFIXES = ("ingly", "edly", "ing", "ied", "ies", "ed", "es", "s", "ly")


def stem(word: str) -> str:
    """Strip one common English suffix when a stem of at least 3 letters stays (plural/tense only)."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if suffix in ("ied", "ies"):
                return base + "y"
            if suffix == "es" and not base.endswith(("s", "x", "z", "ch", "sh")):
                return word[:-1]
            return base
    return word


def tokens(text: str) -> list[str]:
    """Content tokens: camelCase and snake_case split, lowercased, stopwords and 1-letter words dropped."""
    spaced = _CAMEL.sub(" ", text)
    out = []
    for raw in _WORD.findall(spaced.lower()):
        if raw in STOPWORDS or len(raw) < 2:
            continue
        out.append(stem(raw))
    return out


def tfidf_vectors(docs: Sequence[str]) -> list[dict[str, float]]:
    """Smoothed TF-IDF (idf = ln((1+N)/(1+df)) + 1), L2-normalised, one sparse vector per doc."""
    toks = [tokens(d) for d in docs]
    n = len(docs)
    df: Counter[str] = Counter()
    for t in toks:
        df.update(set(t))
    vectors = []
    for t in toks:
        counts = Counter(t)
        vec = {w: c * (math.log((1 + n) / (1 + df[w])) + 1.0) for w, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values()))
        vectors.append({w: v / norm for w, v in vec.items()} if norm else {})
    return vectors


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())
