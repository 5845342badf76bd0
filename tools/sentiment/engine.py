"""Which sentiment engine the product uses: a saved trained model where one is configured and
loads, the offline lexicon otherwise. Both answer `analyse(text) -> SentimentScore` (and
`analyse_many` for a batch) and carry a `name`, so a retro or health report can say which engine
produced its numbers.

The trained engine takes its polarity label (and emotion, if an emotion model was saved) from the
classifiers; `score`, `positive`, `negative` and `arousal` stay the lexicon's, except that a score
whose sign contradicts the trained label is clamped to that label's threshold, so the sign of
`score` always agrees with `label`.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tools.sentiment.model import EMOTIONS, POLARITIES, LexiconSentiment, SentimentScore, _emotion
from tools.sentiment.trained import TrainedSentiment, load_saved

MODEL_ENV = "SPRINTPILOT_SENTIMENT_MODEL"
log = logging.getLogger(__name__)


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
        # The lexicon scores each text once: its features for both classifiers and its score here.
        lexicon = [super(TrainedEngine, self).analyse(t) for t in texts]
        labels = self.polarity.predict(texts, lexicon)
        emotions = self.emotion.predict(texts, lexicon) if self.emotion is not None else None
        out = []
        for i, (lex, label) in enumerate(zip(lexicon, labels, strict=True)):
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


class EngineChoice(BaseModel):
    """The engine retro and health score with, its name (reports name it) and, when a configured
    model could not be used, why (reports repeat it)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    engine: LexiconSentiment
    warning: str | None = None

    @property
    def name(self) -> str:
        return self.engine.name


_warned: set[str] = set()


def _fallback(named: Path, reason: str) -> EngineChoice:
    engine = LexiconSentiment()
    warning = f"sentiment model {named} not used ({reason}); scoring with the {engine.name} engine"
    if warning not in _warned:  # one warning per model file and process, not one per retro
        _warned.add(warning)
        log.warning(warning)
    return EngineChoice(engine=engine, warning=warning)


def load_engine(named: Path) -> TrainedEngine:
    """The engine saved at `named`, checked by scoring one text (a model pickled by another library
    version or needing absent MiniLM weights fails here, not in the middle of a retro)."""
    engine = TrainedEngine.load(named)
    engine.analyse_many(["thanks, looks good"])
    return engine


def engine_choice(path: Path | None = None, emotions: bool = False) -> EngineChoice:
    """The trained engine saved at `path` (or $SPRINTPILOT_SENTIMENT_MODEL) when it loads, else the
    offline lexicon. A configured file that is missing or does not load gives one logged warning
    and the lexicon, never an error: a retro should not fail on its mood line. The lexicon is the
    zero-shot default: prototype phrases scored with MiniLM vectors added under a point of
    polarity macro-F1 (README) and cost ~30 ms per new text, so they are not used.

    `emotions=False` (retro and health read labels and scores only) leaves a saved emotion model
    out: it would double the scoring time for a field nobody reads (the emotion then comes from
    the valence-arousal mapping)."""
    named = path or (Path(os.environ[MODEL_ENV]) if os.environ.get(MODEL_ENV) else None)
    if named is None:
        return EngineChoice(engine=LexiconSentiment())
    if not named.is_file():
        return _fallback(named, "file not found")
    try:
        engine = load_engine(named)
    # Unpickling a damaged or foreign file raises almost anything (UnpicklingError, EOFError,
    # AttributeError, ImportError, TypeError...); each means the same here: not usable.
    except Exception as exc:
        return _fallback(named, f"{type(exc).__name__}: {exc}"[:200])
    if not emotions and engine.emotion is not None:
        engine = TrainedEngine(engine.polarity)
    return EngineChoice(engine=engine)


def best_engine(path: Path | None = None) -> LexiconSentiment:
    """`engine_choice(path, emotions=True).engine`."""
    return engine_choice(path, emotions=True).engine
