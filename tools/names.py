"""Close names for a name someone typed (a person, or a model) that matches nothing.

One helper for every "no project/task named …" error (the CLI's `find_project`, the chat's
resolver, the chat's `list_projects` tool): case and spaces do not matter ("sprint23" finds
"Sprint 23"), a fragment finds the names that contain it ("proces" finds "Process Improvement"),
and otherwise difflib's similarity decides. Pure and deterministic (ties keep the given order).
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher

DEFAULT_LIMIT = 5
SIMILARITY_CUTOFF = 0.6
_MIN_FRAGMENT = 3


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _score(wanted: str, name: str) -> float:
    """0 (unrelated) … 2 (equal up to case and spaces); a contained fragment scores above 1."""
    folded, packed_wanted, packed_name = _fold(name), wanted.replace(" ", ""), _fold(name).replace(" ", "")
    similarity = max(
        SequenceMatcher(None, wanted, folded).ratio(),
        SequenceMatcher(None, packed_wanted, packed_name).ratio(),
    )
    if packed_wanted == packed_name:
        return 2.0
    # Same letters in another order ("Sprint 32" for "Sprint 23") break ties between equally
    # similar names.
    letters = SequenceMatcher(None, sorted(packed_wanted), sorted(packed_name)).ratio() / 20
    if len(packed_wanted) >= _MIN_FRAGMENT and packed_wanted in packed_name:
        return 1.0 + similarity / 2 + letters
    return similarity + letters if similarity >= SIMILARITY_CUTOFF else 0.0


def close_names(wanted: str, names: Iterable[str], limit: int = DEFAULT_LIMIT) -> list[str]:
    """Up to `limit` of `names` closest to `wanted`, best first (empty when none is close)."""
    query = _fold(wanted)
    if not query:
        return []
    unique = [n for n in dict.fromkeys(n for n in names if n and n.strip())]
    scored = [(score, i, n) for i, n in enumerate(unique) if (score := _score(query, n)) > 0]
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [n for _, _, n in scored[:limit]]


def did_you_mean(wanted: str, names: Iterable[str], limit: int = DEFAULT_LIMIT) -> str:
    """The hint for an error message ("; close names: 'A', 'B'"), or "" when none is close."""
    close = close_names(wanted, names, limit)
    return f"; close names: {', '.join(repr(n) for n in close)}" if close else ""
