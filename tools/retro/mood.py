"""Comment sentiment over the sprint: overall mix, per-day series and its trend."""

from __future__ import annotations

import statistics
from datetime import timedelta

from pydantic import BaseModel, Field

from tools.retro.metrics import _aware
from tools.retro.models import Comment, SprintWindow
from tools.sentiment.model import LexiconSentiment

TREND_EPSILON = 0.05  # score/day slope below this is "flat"


class ScoredComment(BaseModel):
    day: int
    score: float
    label: str
    text: str
    author: str | None = None


class Mood(BaseModel):
    comments: int
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    mean_score: float | None = None
    first_half: float | None = None
    second_half: float | None = None
    slope_per_day: float | None = None
    trend: str = "no data"  # improving | declining | flat | no data
    by_day: dict[str, float] = Field(default_factory=dict)
    most_negative: list[ScoredComment] = Field(default_factory=list)
    most_positive: list[ScoredComment] = Field(default_factory=list)
    engine: str = "lexicon"  # the sentiment engine that scored the comments


def _slope(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3 or len(set(xs)) < 2:
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den


def sprint_mood(comments: list[Comment], window: SprintWindow, model: LexiconSentiment | None = None) -> Mood:
    lex = model or LexiconSentiment()
    if not comments:
        return Mood(comments=0, engine=lex.name)
    # Per comment (day, score, label); a ScoredComment is built only for the quotes reported.
    days: list[int] = []
    scores: list[float] = []
    labels: list[str] = []
    for c in comments:
        a = lex.analyse(c.text)
        days.append((_aware(c.at).date() - window.start_on).days)
        scores.append(a.score)
        labels.append(a.label)
    length = max((window.end_on - window.start_on).days, 1)
    first = [sc for d, sc in zip(days, scores, strict=True) if d <= length / 2]
    second = [sc for d, sc in zip(days, scores, strict=True) if d > length / 2]
    by_day: dict[str, list[float]] = {}
    for d, sc in zip(days, scores, strict=True):
        by_day.setdefault((window.start_on + timedelta(days=d)).isoformat(), []).append(sc)
    slope = _slope([float(d) for d in days], scores)
    trend = "no data"
    # The halves are what people compare ("we were happier early on"); the slope is the fallback.
    change = (
        (statistics.fmean(second) - statistics.fmean(first)) / max(length / 2, 1)
        if first and second
        else slope
    )
    if change is not None:
        trend = "improving" if change > TREND_EPSILON else "declining" if change < -TREND_EPSILON else "flat"
    order = range(len(comments))
    # Stable sorts over the comments' order: ties keep it, as sorting the comments themselves did.
    neg = sorted((i for i in order if labels[i] == "negative"), key=lambda i: (scores[i], comments[i].text))
    pos = sorted((i for i in order if labels[i] == "positive"), key=lambda i: (-scores[i], comments[i].text))

    def quote(i: int) -> ScoredComment:
        c = comments[i]
        return ScoredComment(day=days[i], score=scores[i], label=labels[i], text=c.text, author=c.author)

    return Mood(
        comments=len(comments),
        positive=labels.count("positive"),
        neutral=labels.count("neutral"),
        negative=labels.count("negative"),
        mean_score=round(statistics.fmean(scores), 3),
        first_half=round(statistics.fmean(first), 3) if first else None,
        second_half=round(statistics.fmean(second), 3) if second else None,
        slope_per_day=None if slope is None else round(slope, 4),
        trend=trend,
        by_day={k: round(statistics.fmean(v), 3) for k, v in sorted(by_day.items())},
        most_negative=[quote(i) for i in neg[:3]],
        most_positive=[quote(i) for i in pos[:3]],
        engine=lex.name,
    )
