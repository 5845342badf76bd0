"""The lexicon sentiment engine with one score per distinct text, for one retro's analysis.

A retro scores a comment for the sprint's mood and again for each theme it belongs to (the
theme's mean and its quotes' order); the engine is deterministic, so the first score of a text is
every later one. One instance lives for one analysis: nothing is kept across retros.
"""

from __future__ import annotations

from tools.sentiment.model import LexiconSentiment, SentimentScore


class CachedSentiment(LexiconSentiment):
    def __init__(self, pos_threshold: float = 1.0, neg_threshold: float = -1.0) -> None:
        super().__init__(pos_threshold, neg_threshold)
        self._scores: dict[str, SentimentScore] = {}

    def analyse(self, text: str) -> SentimentScore:
        found = self._scores.get(text)
        if found is None:
            found = self._scores[text] = super().analyse(text)
        return found
