"""Is a proposed retro action item a near-duplicate of one already open? Titles compared by words.

A retro that proposes "Quarantine the flakiest tests and fix the top three before new work" while
"Quarantine flaky UI tests" is still open should point at the open task, not add a second one.
Titles are normalised (lower case, punctuation and filler words dropped, number words as digits,
a light suffix-stripping stemmer) and compared by the overlap coefficient of their word sets,
|A ∩ B| / min(|A|, |B|): a human's short title that is mostly contained in a longer proposed one
counts as the same item. Two shared words at least, so one common word ("tests") never links.

Threshold (`SIMILAR` = 0.6), chosen on the cases in tests/retro/test_dedupe.py: the open items
a team writes for the catalogue's remedies ("Quarantine flaky UI tests" 0.75, "Stabilise the
staging environment" 0.67, "Agree a Definition of Ready with design" 0.75, "Split stories above 8
points before planning" 0.83 and 1.0) are at or above it; every pair of different remedies the
retro proposes is below it (the closest, the two that both split stories above 8 points, 0.56).
Paraphrases with no words in common ("Timebox code reviews to 24 hours" vs "Set a review SLA of
one working day") stay apart: this is word overlap, not meaning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar

SIMILAR = 0.6
MIN_SHARED = 2

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    {
        "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "at", "by", "with", "from",
        "into", "per", "as", "is", "are", "be", "it", "its", "this", "that", "these", "those", "we",
        "our", "your", "their", "before", "after", "about", "all", "any", "each", "every", "than",
        "then", "so", "new", "up", "out",
    }
)  # fmt: skip
_NUMBERS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
}
_SUFFIXES = (
    "ations", "ation", "ising", "izing", "ings", "ing", "iest", "ies", "est", "ers", "er", "ed", "es",
    "ly", "s",
)  # fmt: skip

T = TypeVar("T")


def _stem(word: str) -> str:
    word = _NUMBERS.get(word, word)
    if word.isdigit() or len(word) <= 3:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("y") or word.endswith("i"):
        word = word[:-1]
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # planning → plann → plan
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def title_tokens(title: str) -> frozenset[str]:
    """The title's content words, stemmed."""
    words = _WORD.findall(title.lower())
    return frozenset(_stem(w) for w in words if (len(w) > 1 or w.isdigit()) and w not in _STOP)


def normalize_title(title: str) -> str:
    """A stable key for a title: its stemmed content words, sorted (wording and order aside)."""
    return " ".join(sorted(title_tokens(title)))


def similarity(a: str, b: str) -> float:
    """Overlap coefficient of the two titles' word sets (0 with fewer than `MIN_SHARED` shared)."""
    ta, tb = title_tokens(a), title_tokens(b)
    shared = len(ta & tb)
    if not ta or not tb or shared < MIN_SHARED:
        return 0.0
    return shared / min(len(ta), len(tb))


def best_match(title: str, candidates: Iterable[tuple[str, T]]) -> tuple[T, float] | None:
    """The candidate (name, value) most similar to `title` at or above `SIMILAR`, if any."""
    best: tuple[T, float] | None = None
    for name, value in candidates:
        score = similarity(title, name)
        if score >= SIMILAR and (best is None or score > best[1]):
            best = (value, score)
    return best
