"""What the scorecard reads (predictions, outcomes) and what it produces, as plain pydantic."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

DecisionOutcome = Literal["approved", "edited", "rejected", "undecided"]


class EstimatePrediction(BaseModel):
    """A number an agent predicted for a subject: a task's story points (triage), a sprint's
    delivered points (the planner's capacity). The actual is `Outcomes.actuals[subject]`."""

    agent: str
    what: str  # "story points", "sprint velocity"
    subject: str
    estimate: float
    low: float | None = None
    high: float | None = None
    at: datetime | None = None


class FlagRound(BaseModel):
    """One run's flags (at-risk, delay) against the tasks it looked at (its population)."""

    agent: str
    what: str  # "at risk", "delay risk"
    round: str  # unique per run: outcomes are keyed by it (the same task may slip in one sprint, not another)
    population: list[str]
    flagged: list[str]
    at: datetime | None = None


class BandPrediction(BaseModel):
    """A forecast band (P10–P90, with its P50) for a subject whose actual becomes known later."""

    agent: str
    subject: str
    p10: float
    p50: float
    p90: float
    at: datetime | None = None


class Nudge(BaseModel):
    """A nudge to a person about tasks, at a moment: did any of them change within a day?"""

    agent: str
    person: str
    tasks: list[str]
    at: datetime


class ProposedAction(BaseModel):
    """An action that needed a person's approval, and what they decided."""

    agent: str
    kind: str
    decision: DecisionOutcome


class PeopleSaid(BaseModel):
    """A person told sprintpilot a prediction was wrong (the feedback loop's verdict on it)."""

    agent: str
    verdict: str  # correction | false_alarm | miss | disagree


class Predictions(BaseModel):
    estimates: list[EstimatePrediction] = Field(default_factory=list)
    flags: list[FlagRound] = Field(default_factory=list)
    bands: list[BandPrediction] = Field(default_factory=list)
    nudges: list[Nudge] = Field(default_factory=list)
    actions: list[ProposedAction] = Field(default_factory=list)


class Outcomes(BaseModel):
    """What really happened, as far as it is known now."""

    # subject → actual value: a finished task's final points, a finished sprint's delivered points.
    actuals: dict[str, float] = Field(default_factory=dict)
    # flag round → the tasks of its population whose outcome is known (deadline passed or done) …
    settled: dict[str, list[str]] = Field(default_factory=dict)
    # … and those of them that slipped (not done by the deadline).
    slipped: dict[str, list[str]] = Field(default_factory=dict)
    # task → when a person (not sprintpilot) changed it or commented.
    changes: dict[str, list[datetime]] = Field(default_factory=dict)
    # Nudges newer than this are too recent to judge (their day has not passed).
    now: datetime | None = None
    # What people said about the predictions (optional: the feedback store, when there is one).
    people: list[PeopleSaid] = Field(default_factory=list)


class EstimateScore(BaseModel):
    agent: str
    what: str
    n: int
    pending: int  # predictions whose actual is not known yet
    mae: float | None
    bias: float | None
    mdae: float | None
    within_range: float | None


class FlagScore(BaseModel):
    agent: str
    what: str
    rounds: int
    pending: int  # rounds with no settled task yet
    flagged: int
    hits: int
    slipped: int
    precision: float | None
    recall: float | None
    f1: float | None


class CalibrationScore(BaseModel):
    agent: str
    n: int
    pending: int
    inside_p10_p90: float | None
    below_p10: float | None
    above_p90: float | None
    p50_mae: float | None


class NudgeScore(BaseModel):
    agent: str
    nudges: int
    pending: int
    followed: int
    rate: float | None  # share of judged nudges with a change within a day


class DecisionScore(BaseModel):
    agent: str
    kind: str
    proposed: int
    approved: int  # as proposed or edited
    edited: int
    rejected: int
    undecided: int  # expired, superseded or still waiting
    approval_rate: float | None  # approved / decided
    rejection_rate: float | None  # rejected / decided


class FeedbackScore(BaseModel):
    """Confirmed by people: corrections, false alarms, misses and plain "wrong"s per agent."""

    agent: str
    corrections: int
    false_alarms: int
    misses: int
    disagreements: int


class ScoreRow(BaseModel):
    """One number of the scorecard: what /metrics exports and the tables show."""

    agent: str
    metric: str
    value: float | None
    n: int


class Scorecard(BaseModel):
    source: str  # where the predictions and outcomes came from
    estimates: list[EstimateScore] = Field(default_factory=list)
    flags: list[FlagScore] = Field(default_factory=list)
    calibration: list[CalibrationScore] = Field(default_factory=list)
    nudges: list[NudgeScore] = Field(default_factory=list)
    decisions: list[DecisionScore] = Field(default_factory=list)
    feedback: list[FeedbackScore] = Field(default_factory=list)

    def rows(self) -> list[ScoreRow]:
        out: list[ScoreRow] = []
        for e in self.estimates:
            slug = e.what.replace(" ", "_")
            out += [
                ScoreRow(agent=e.agent, metric=f"{slug}_mae", value=e.mae, n=e.n),
                ScoreRow(agent=e.agent, metric=f"{slug}_bias", value=e.bias, n=e.n),
                ScoreRow(agent=e.agent, metric=f"{slug}_within_range", value=e.within_range, n=e.n),
            ]
        for f in self.flags:
            slug = f.what.replace(" ", "_")
            out += [
                ScoreRow(agent=f.agent, metric=f"{slug}_precision", value=f.precision, n=f.flagged),
                ScoreRow(agent=f.agent, metric=f"{slug}_recall", value=f.recall, n=f.slipped),
                ScoreRow(agent=f.agent, metric=f"{slug}_f1", value=f.f1, n=f.rounds),
            ]
        for c in self.calibration:
            out += [
                ScoreRow(agent=c.agent, metric="inside_p10_p90", value=c.inside_p10_p90, n=c.n),
                ScoreRow(agent=c.agent, metric="p50_mae", value=c.p50_mae, n=c.n),
            ]
        for nd in self.nudges:
            out.append(
                ScoreRow(agent=nd.agent, metric="nudge_followed_within_day", value=nd.rate, n=nd.nudges)
            )
        for d in self.decisions:
            decided = d.approved + d.rejected
            out += [
                ScoreRow(agent=d.agent, metric=f"{d.kind}_approval_rate", value=d.approval_rate, n=decided),
                ScoreRow(agent=d.agent, metric=f"{d.kind}_rejection_rate", value=d.rejection_rate, n=decided),
            ]
        for fb in self.feedback:
            for metric, count in (
                ("people_corrections", fb.corrections),
                ("people_false_alarms", fb.false_alarms),
                ("people_misses", fb.misses),
                ("people_disagreements", fb.disagreements),
            ):
                out.append(ScoreRow(agent=fb.agent, metric=metric, value=float(count), n=count))
        return out
