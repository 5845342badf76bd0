"""Which sentiment engine the product uses: a saved trained model where one is configured, the
offline lexicon otherwise. Both answer `analyse(text) -> SentimentScore` and carry a `name`, so a
retro or health report can say which engine produced its numbers.

The trained engine takes its polarity label (and emotion, if an emotion model was saved) from the
classifiers; `score`, `positive`, `negative` and `arousal` stay the lexicon's, except that a score
whose sign contradicts the trained label is clamped to that label's threshold, so the sign of
`score` always agrees with `label`.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from pathlib import Path

from tools.sentiment.model import EMOTIONS, POLARITIES, LexiconSentiment, SentimentScore, _emotion
from tools.sentiment.trained import TrainedSentiment, load_saved

MODEL_ENV = "SPRINTPILOT_SENTIMENT_MODEL"


class TrainedEngine(LexiconSentiment):
    """Trained polarity (+ optional emotion) classifiers behind the lexicon engine's interface."""

    def __init__(self, polarity: TrainedSentiment, emotion: TrainedSentiment | None = None) -> None:
        super().__init__()
        if not polarity.fitted or (emotion is not None and not emotion.fitted):
            raise ValueError("the engine needs fitted classifiers")
        self.polarity = polarity
        self.emotion = emotion
        self.name = f"trained:{polarity.name}"

    def analyse(self, text: str) -> SentimentScore:
        return self.analyse_many([text])[0]

    def analyse_many(self, texts: Sequence[str]) -> list[SentimentScore]:
        """Batch scoring: one vectoriser pass for all texts (much cheaper than one call per text)."""
        texts = [t or "" for t in texts]
        labels = self.polarity.predict(texts)
        emotions = self.emotion.predict(texts) if self.emotion is not None else None
        out = []
        for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
            lex = super().analyse(text)
            if label not in POLARITIES:
                raise ValueError(f"the polarity model predicts {label!r}, not one of {POLARITIES}")
            score = lex.score
            if label == "positive" and score < self.pos_threshold:
                score = self.pos_threshold
            elif label == "negative" and score > self.neg_threshold:
                score = self.neg_threshold
            elif label == "neutral" and not self.neg_threshold < score < self.pos_threshold:
                score = 0.0
            emo = (
                emotions[i]
                if emotions is not None
                else _emotion(label, score, lex.arousal, lex.positive, lex.negative)
            )
            if emo not in EMOTIONS:
                raise ValueError(f"the emotion model predicts {emo!r}, not one of {EMOTIONS}")
            out.append(lex.model_copy(update={"label": label, "score": score, "emotion": emo}))
        return out

    def predict(self, texts: list[str]) -> list[str]:  # type: ignore[override]
        return [s.label for s in self.analyse_many(texts)]

    def predict_emotion(self, texts: list[str]) -> list[str]:  # type: ignore[override]
        return [s.emotion for s in self.analyse_many(texts)]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(self))

    @staticmethod
    def load(path: Path) -> TrainedEngine:
        return load_saved(path, TrainedEngine, "a saved sentiment engine")


def best_engine(path: Path | None = None) -> LexiconSentiment:
    """The trained engine saved at `path` (or $SPRINTPILOT_SENTIMENT_MODEL) if any, else the lexicon.

    A configured file that is missing or unreadable is an error, not a silent fall-back: the
    report would otherwise claim numbers from an engine it did not use.
    """
    named = path or (Path(os.environ[MODEL_ENV]) if os.environ.get(MODEL_ENV) else None)
    if named is None:
        return LexiconSentiment()
    if not named.is_file():
        raise FileNotFoundError(f"sentiment model {named} not found (unset {MODEL_ENV} to use the lexicon)")
    return TrainedEngine.load(named)
