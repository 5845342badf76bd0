"""The live scorecard: sprintpilot's own records + Asana → `tools.scorecard.compute_scorecard`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from agents.scorecard.inputs import ProposalHistory, gather, read_records
from tools.errors import ConfigError
from tools.scorecard.compute import compute_scorecard
from tools.scorecard.models import PeopleSaid, Scorecard

# The feedback loop's verdicts that judge a prediction (a rejection is counted with the decisions).
PREDICTION_VERDICTS = frozenset({"correction", "false_alarm", "miss", "disagree"})

DEFAULT_DAYS = 90


def history_of(repo: Any) -> ProposalHistory:
    """The app database's proposals (the in-memory ports of evals and tests keep no history)."""
    if not isinstance(repo, ProposalHistory):
        raise ConfigError("the scorecard reads sprintpilot's proposal history: it needs the app database")
    return repo


def live_scorecard(
    asana: Any,
    history: ProposalHistory,
    workspace: str,
    now: datetime,
    *,
    projects: frozenset[str] | None = None,
    days: int = DEFAULT_DAYS,
    scope: str = "the workspace",
    feedback: Any = None,
) -> Scorecard:
    """Predictions made in the last `days` days (on `projects`, else everywhere), scored against
    what Asana shows at `now`; with a feedback store (`FeedbackSource`), also what people told
    sprintpilot about them in that time (confirmed misses, false alarms, corrections)."""
    since = now - timedelta(days=days)
    records = read_records(history, since, now, projects)
    predictions, outcomes = gather(records, asana, workspace, now)
    if feedback is not None:
        outcomes.people = [
            PeopleSaid(agent=item.agent or "unknown", verdict=str(item.verdict))
            for item in feedback.items(since=since)
            if str(item.verdict) in PREDICTION_VERDICTS
            and (projects is None or item.project_gid is None or item.project_gid in projects)
        ]
    source = (
        f"{len(records)} proposal(s) sprintpilot made on {scope} in the {days} days to "
        f"{now.date().isoformat()}, scored against Asana"
    )
    return compute_scorecard(predictions, outcomes, source=source)
