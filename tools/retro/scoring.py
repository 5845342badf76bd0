"""One sentiment score per distinct text, for one retro's analysis, from whichever engine the
retro uses (the offline lexicon by default, a saved trained engine when configured).

A retro scores a comment for the sprint's mood and again for each theme it belongs to (the
theme's mean and its quotes' order); the engines are deterministic, so the first score of a text is
every later one. `prime` scores many texts in one call: a trained engine's vectorisers and
classifier then run once per retro instead of once per text. One instance lives for one analysis:
nothing is kept across retros.
"""

from __future__ import annotations

from collections.abc import Iterable

from tools.sentiment.model import LexiconSentiment, SentimentScore


class CachedSentiment(LexiconSentiment):
    def __init__(self, engine: LexiconSentiment | None = None) -> None:
        self.engine = engine or LexiconSentiment()
        super().__init__(self.engine.pos_threshold, self.engine.neg_threshold)
        self.name = self.engine.name
        self._scores: dict[str, SentimentScore] = {}

    def prime(self, texts: Iterable[str]) -> None:
        """Score every text not seen yet, in one batch."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._scores))
        if todo:
            self._scores.update(zip(todo, self.engine.analyse_many(todo), strict=True))

    def analyse(self, text: str) -> SentimentScore:
        found = self._scores.get(text)
        if found is None:
            found = self._scores[text] = self.engine.analyse(text)
        return found
