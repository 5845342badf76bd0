"""Replay scorer "risk": the dependency manager's mid-sprint scan, scored like the stand-up.

On the same mid-sprint morning as the stand-up, the dependency manager scans the sprint project
(trigger "scan": Blocked tasks, overdue open tasks, tasks the current schedule predicts late, and
everything those push, plus the delay-risk model trained on the team's settled history). Tasks
without a due date are scheduled to the sprint's end (the implicit due date; never written).
Flagged = tasks whose Risk Score (from the proposal's evidence, the value it writes to the Risk
Score field: max of the cascade's score and the model's 100 × probability) is at least
RISK_THRESHOLD. A second row scores the model's own flags (probability at or above its F1-tuned
threshold, which may sit below 0.5), next to the largest-tasks baseline of the same size. Same
population, truth and naive baselines as the "standup" scorer.
"""

from __future__ import annotations

import statistics

from evals.replay.observations import SprintObservation
from evals.replay.scorer_standup import at_risk_section
from evals.replay.scorers import Observations, ScoreSection, register_scorer

# The logistic score's midpoint: at 50 the schedule facts say "more likely late than not". A task
# with nothing pushing it scores 10; one that is on time with ≤1 day of slack scores 20.
RISK_THRESHOLD = 50
EMPTY_NOTE = (
    "No task got a Risk Score: the recordings carry no Blocked status, no due dates and only link "
    "counts (Koralage), so the schedule engine sees sprint-end implicit due dates and no dependency "
    "links, and the delay-risk model had no flag at or above 50 (see the model notes)."
)
NO_MODEL_NOTE = (
    "The delay-risk model trained in no scan: the settled history (tasks of past sprint projects, due "
    "at their sprint's end) never reached the minimum examples of both classes."
)


def risk_flags(o: SprintObservation, threshold: int = RISK_THRESHOLD) -> set[str] | None:
    risk = o.agents.risk if o.agents else None
    if risk is None or risk.error is not None:
        return None
    return {task for task, score in risk.scores.items() if score >= threshold}


def model_flags(o: SprintObservation) -> set[str] | None:
    risk = o.agents.risk if o.agents else None
    if risk is None or risk.error is not None:
        return None
    return set(risk.model_flagged)


@register_scorer("risk")
def score_risk(obs: Observations) -> ScoreSection:
    runs = [o.agents.risk for o in obs if o.agents and o.agents.risk]
    scored = sum(len(x.scores) for x in runs)
    slips = sum(x.slips for x in runs)
    paces = sorted({x.pace_source or "none" for x in runs})
    statuses: dict[str, int] = {}
    for x in runs:
        statuses[x.model_status or "not run"] = statuses.get(x.model_status or "not run", 0) + 1
    trained = [x for x in runs if x.model_status == "trained"]
    seconds = [x.model_seconds for x in trained if x.model_seconds is not None]
    model_note = (
        f"Delay-risk model per scan: {', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}"
        + (
            f"; trained on a median {statistics.median(x.model_examples for x in trained):g} settled tasks "
            f"in a median {statistics.median(seconds):.2f} s; {sum(len(x.model_flagged) for x in trained)} "
            "model flag(s) in all."
            if trained and seconds
            else "."
        )
    )
    section = at_risk_section(
        obs,
        name="risk",
        title=f"Dependency manager Risk Score ≥ {RISK_THRESHOLD} (mid-sprint scan)",
        label=f"dependency scan: Risk Score ≥ {RISK_THRESHOLD}",
        flag=risk_flags,
        notes=[
            f"Threshold {RISK_THRESHOLD} = the midpoint of the logistic Risk Score (tools/delay_risk/"
            "task_score.py), also 50% for the model's probability; a task with nothing pushing it scores 10.",
            f"Across {len(runs)} scans: {slips} slip trigger(s), {scored} task(s) given any Risk Score; "
            f"pace source: {', '.join(paces) or '–'}.",
            model_note,
            *([EMPTY_NOTE] if runs and not scored else []),
            *([NO_MODEL_NOTE] if runs and not trained else []),
        ],
    )
    by_model = at_risk_section(
        obs,
        name="risk_model",
        title="",
        label="delay-risk model: p ≥ its threshold",
        flag=model_flags,
        notes=[],
    )
    model_row, _, size_matched = by_model.metrics.rows[:3]
    section.metrics.rows += [model_row, ["naive: largest open tasks (model's count)", *size_matched[1:]]]
    section.summary["threshold"] = RISK_THRESHOLD
    section.summary["tasks_scored"] = scored
    section.summary["slips"] = slips
    section.summary["model_trained_runs"] = len(trained)
    section.summary["model_flagged"] = by_model.summary["flagged"]
    section.summary["model_precision"] = by_model.summary["precision"]
    section.summary["model_recall"] = by_model.summary["recall"]
    return section
