"""Issue 23: the lexicon engine got faster (phrases looked up by their first word, patterns run only
where their characters occur, no second validation) and its scores did not change.

The digest was recorded from the engine before the change on 3,000 seeded texts made of its own
phrases, words, emoticons, negators, intensifiers and code/URL/issue-key fragments."""

from __future__ import annotations

import hashlib
import json
import random

from tools.sentiment.lexicon import EMOTICONS, INTENSIFIERS, NEGATORS, PHRASES, WORDS
from tools.sentiment.model import LexiconSentiment

PINNED = "15d3df60e6ca8c34"
EDGES = [
    "ABC-123", "r12345", "`code`", "{{x}}", "a@b.com", "http://x.y/z", "!", "?", ",", ".", " - ", "but",
    "LGTM", "AWESOME", "x", "+1", "ok+1", "my bad habit", "\u2019", "'", "(", ")", "don't", "1", "a",
]  # fmt: skip


def _texts(seed: int = 11, n: int = 3000) -> list[str]:
    rng = random.Random(seed)
    pool = sorted(PHRASES) + sorted(EMOTICONS) + sorted(WORDS) + sorted(NEGATORS) + sorted(INTENSIFIERS)
    pool += EDGES
    out = []
    for _ in range(n):
        words = [rng.choice(pool) for _ in range(rng.randint(1, 10))]
        out.append("".join(w + rng.choice(["", " ", " ", " ", "  ", ", "]) for w in words))
    return out


def test_scores_are_those_of_the_former_engine() -> None:
    lex = LexiconSentiment()
    rows = [lex.analyse(t).model_dump() for t in _texts()]
    assert hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:16] == PINNED


def test_a_phrase_is_found_only_as_whole_words_and_longest_first() -> None:
    lex = LexiconSentiment()
    assert lex.analyse("my bad habit").hits == ["bad habit"]  # the longer phrase wins, as before
    assert lex.analyse("shameful").hits == [] and lex.analyse("a shame").hits == ["shame"]
    assert lex.analyse("ok+1 sure").hits[:1] == ["+1"]
    assert lex.analyse("see ABC-123: thanks").label == "positive"
