"""Replay scorer "risk": the dependency manager's mid-sprint scan, scored like the stand-up.

On the same mid-sprint morning as the stand-up, the dependency manager scans the sprint project
(trigger "scan": Blocked tasks, overdue open tasks, tasks the current schedule predicts late, and
everything those push). Flagged = tasks whose Risk Score (from the proposal's evidence, the value
it writes to the Risk Score field) is at least RISK_THRESHOLD. Same population, truth and naive
baselines as the "standup" scorer.
"""

from __future__ import annotations

from evals.replay.observations import SprintObservation
from evals.replay.scorer_standup import at_risk_section
from evals.replay.scorers import Observations, ScoreSection, register_scorer

# The logistic score's midpoint: at 50 the schedule facts say "more likely late than not". A task
# with nothing pushing it scores 10; one that is on time with ≤1 day of slack scores 20.
RISK_THRESHOLD = 50
EMPTY_NOTE = (
    "No task got a Risk Score: the scan only reacts to structured schedule facts (Blocked status, due "
    "dates, dependency links) and these recordings carry none of them (Koralage gives only link counts, "
    "no due dates, and Status is never set), so precision is undefined and recall 0."
)


def risk_flags(o: SprintObservation, threshold: int = RISK_THRESHOLD) -> set[str] | None:
    risk = o.agents.risk if o.agents else None
    if risk is None or risk.error is not None:
        return None
    return {task for task, score in risk.scores.items() if score >= threshold}


@register_scorer("risk")
def score_risk(obs: Observations) -> ScoreSection:
    runs = [o.agents.risk for o in obs if o.agents and o.agents.risk]
    scored = sum(len(x.scores) for x in runs)
    slips = sum(x.slips for x in runs)
    paces = sorted({x.pace_source or "none" for x in runs})
    section = at_risk_section(
        obs,
        name="risk",
        title=f"Dependency manager Risk Score ≥ {RISK_THRESHOLD} (mid-sprint scan)",
        label=f"dependency scan: Risk Score ≥ {RISK_THRESHOLD}",
        flag=risk_flags,
        notes=[
            f"Threshold {RISK_THRESHOLD} = the midpoint of the logistic Risk Score (tools/delay_risk/"
            "task_score.py); a task with nothing pushing it scores 10.",
            f"Across {len(runs)} scans: {slips} slip trigger(s), {scored} task(s) given any Risk Score; "
            f"pace source: {', '.join(paces) or '–'}.",
            *([EMPTY_NOTE] if runs and not scored else []),
        ],
    )
    section.summary["threshold"] = RISK_THRESHOLD
    section.summary["tasks_scored"] = scored
    section.summary["slips"] = slips
    return section
