"""Developer-comment sentiment: an offline lexicon engine and an optional trained classifier."""

from tools.sentiment.model import EMOTIONS, POLARITIES, LexiconSentiment, SentimentScore

__all__ = ["EMOTIONS", "POLARITIES", "LexiconSentiment", "SentimentScore"]
