"""The stand-up's at-risk horizon and the dependency manager's delay-risk threshold adapt to
confirmed misses in the feedback store, only after the minimum count, and say so in evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agents.dependencies.delay_model import score_open_tasks
from agents.standup import standup_specialist
from service.db.feedback import SqlFeedback
from service.runtime import Runtime
from tests.dependencies.test_delay_features import TODAY, _current, _history
from tools.feedback.models import DecisionOutcome, FeedbackItem, FeedbackKind, Verdict

NOW = datetime(2026, 11, 19, 17, 0, tzinfo=UTC)


def _misses(rt: Runtime, gids: list[str], n: int) -> None:
    store = SqlFeedback(rt.engine)
    for i, gid in enumerate(gids[:n]):
        item = FeedbackItem(
            kind=FeedbackKind.FIELD_CORRECTED,
            verdict=Verdict.MISS,
            created_at=NOW - timedelta(days=1),
            task_gid=gid,
            field="Risk Score",
            predicted=20,
            corrected=80,
            actor="asana:1",
        )
        assert store.record(f"story:test-{gid}-{i}", item)


def _sprint_tasks(rt: Runtime) -> tuple[str, list[str]]:
    project = rt.asana.find_project(rt.allowed_workspaces()[0], "Sprint 23").gid
    return project, [t.gid for t in rt.asana.project_tasks(project)]


def test_standup_horizon_moves_after_the_minimum_count(rt: Runtime) -> None:
    project, gids = _sprint_tasks(rt)
    ctx = rt.context(actor="agent:standup", now=lambda: NOW)
    _misses(rt, gids, 2)
    few = standup_specialist().run({"project": project}, ctx)
    assert few.evidence["feedback_threshold"]["value"] == 2
    assert "moves after 3" in few.evidence["feedback_threshold"]["note"]
    assert "_Feedback:" not in few.summary_markdown
    _misses(rt, gids[2:], 2)
    more = standup_specialist().run({"project": project}, ctx)
    evidence = more.evidence["feedback_threshold"]
    assert (evidence["value"], evidence["base"], evidence["misses"]) == (4, 2, 4)
    note = "at-risk horizon (working days) 4 (was 2): 4 confirmed misses in 30 days"
    assert evidence["note"] == note and note in more.summary_markdown
    assert len(more.evidence["at_risk"]) >= len(few.evidence["at_risk"])  # a wider horizon flags more


class _Source:
    """A feedback store holding `n` confirmed misses on the task `gid`."""

    def __init__(self, gid: str, n: int) -> None:
        self.rows = [
            FeedbackItem(
                kind=FeedbackKind.FIELD_CORRECTED,
                verdict=Verdict.MISS,
                created_at=NOW,
                task_gid=gid,
                field="Risk Score",
            )
            for _ in range(n)
        ]

    def items(self, **_: Any) -> list[FeedbackItem]:
        return self.rows

    def decision_outcomes(self, **_: Any) -> list[DecisionOutcome]:
        return []


def test_delay_threshold_is_lowered_by_confirmed_misses() -> None:
    inputs = _current(_history())
    today = TODAY
    before = score_open_tasks(inputs, today)
    assert before.status == "trained" and before.threshold is not None
    few = score_open_tasks(inputs, today, feedback=_Source("safe", 2), now=NOW)
    assert few.threshold == before.threshold and few.feedback is not None
    after = score_open_tasks(inputs, today, feedback=_Source("safe", 4), now=NOW)
    assert after.threshold == round(max(0.05, before.threshold - 0.08), 4)
    assert after.feedback is not None and after.feedback["misses"] == 4
    assert after.feedback["note"] in after.note and "4 confirmed misses in 30 days" in after.note
    assert after.evidence()["feedback"] == after.feedback
    assert len(after.flags) >= len(before.flags)
