"""The delay-risk model inside the dependency manager: Asana task → feature record, training on
the team's settled history, the "not enough history" path, and the implicit sprint due date."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest

import agents.dependencies.delay_model as dm
from agents.dependencies.analysis import analyse
from agents.dependencies.delay_model import score_open_tasks
from agents.dependencies.inputs import DependencyInputs, Pace, SprintRead, read_dependency_inputs
from agents.dependencies.proposal import evidence, risk_actions, shift_actions
from tools.asana.models import Project, Task
from tools.delay_risk.asana_features import assignee_stats, commitment_day, task_record
from tools.delay_risk.features import ABSOLUTE_DATES, ASANA_FEATURES, FEATURE_NAMES, PRODUCT_FEATURES
from tools.delay_risk.history import (
    CANDIDATE_FEATURES,
    OVERDUE_FEATURES,
    HistoryItem,
    Query,
    assignee_features,
)
from tools.delay_risk.model import DelayRiskModel, ModelConfig

TODAY = date(2026, 11, 23)  # a Monday


def _task(gid: str, **over: Any) -> Task:
    values: dict[str, Any] = {"gid": gid, "name": f"task {gid}", "resource_subtype": "default_task"}
    priority = over.pop("priority", None)
    if priority is not None:
        values["custom_fields"] = [
            {
                "gid": "f-prio",
                "name": "Priority",
                "resource_subtype": "enum",
                "enum_value": {"gid": f"o-{priority}", "name": priority},
            }
        ]
    values.update(over)
    return Task.model_validate(values)


def _project(gid: str, name: str, start: date | None = None, due: date | None = None) -> Project:
    return Project(gid=gid, name=name, start_on=start, due_on=due)


def test_task_record_maps_asana_facts_to_model_features() -> None:
    task = _task(
        "1",
        assignee={"gid": "u1"},
        created_at=datetime(2026, 11, 2, 10, tzinfo=UTC),
        due_on=date(2026, 11, 27),
        tags=[{"gid": "t1", "name": "bug"}],
        dependencies=[{"gid": "a"}, {"gid": "b"}],
        dependents=[{"gid": "c"}],
        priority="High",
    )
    others_open = [_task("2", assignee={"gid": "u1"}), _task("3", assignee={"gid": "u2"})]
    settled = [(_task("s1", assignee={"gid": "u1"}), True), (_task("s2", assignee={"gid": "u1"}), False)]
    stats = assignee_stats([task, *others_open], settled)
    rec = task_record(task, due_on=task.due_on or TODAY, as_of=TODAY, component="Backend", stats=stats)
    assert set(rec) <= set(FEATURE_NAMES)
    assert rec["remaining_days"] == 4.0
    assert rec["due_weekday"] == 4  # Friday
    assert rec["due_day"] == float((date(2026, 11, 27) - date(1970, 1, 1)).days)
    assert rec["opened_day"] == float((date(2026, 11, 2) - date(1970, 1, 1)).days)
    assert (rec["blocked_by"], rec["blocks"], rec["links"]) == (2, 1, 3)
    assert rec["assignee_workload"] == 2  # two open tasks of u1 in the projects read
    assert rec["assignee_late_share"] == 0.5
    assert (rec["priority"], rec["type"], rec["component"]) == ("High", "bug", "Backend")
    # A training row never sees its own outcome through its assignee's late share.
    own = task_record(task, due_on=TODAY, as_of=TODAY, component=None, stats=stats, own_late=True)
    assert own["assignee_late_share"] == 0.0
    bare = task_record(_task("4"), due_on=TODAY, as_of=TODAY, component=None, stats=stats)
    assert bare["assignee_workload"] is None and bare["priority"] is None and bare["opened_day"] is None
    # Sprint work is committed at the sprint start (never before the task existed).
    assert commitment_day(task, date(2026, 11, 27), date(2026, 11, 16)) == date(2026, 11, 16)
    assert commitment_day(task, date(2026, 11, 27), date(2026, 10, 1)) == date(2026, 11, 2)


def _history(n_sprints: int = 6, per_sprint: int = 12, seed: int = 0) -> list[SprintRead]:
    """Past two-week sprints: "slow" finishes most of their work after the sprint end, "fast" never."""
    rng = random.Random(seed)
    out = []
    for s in range(n_sprints):
        start = TODAY - timedelta(days=14 * (n_sprints - s))
        end = start + timedelta(days=11)
        tasks = []
        for i in range(per_sprint):
            who = "slow" if i % 2 else "fast"
            is_late = who == "slow" and rng.random() < 0.9
            done = end + timedelta(days=3) if is_late else end - timedelta(days=rng.randint(1, 8))
            tasks.append(
                _task(
                    f"h{s}-{i}",
                    assignee={"gid": who},
                    completed=True,
                    completed_at=datetime.combine(done, datetime.min.time(), UTC),
                    created_at=datetime.combine(start, datetime.min.time(), UTC),
                    priority=rng.choice(["High", "Medium"]),
                )
            )
        out.append(SprintRead(project=_project(f"p{s}", f"Sprint {s + 1}", start, end), tasks=tasks))
    return out


def _current(past: list[SprintRead]) -> DependencyInputs:
    sprint = _project("cur", "Sprint 7", TODAY - timedelta(days=4), TODAY + timedelta(days=7))
    risky = _task("risky", assignee={"gid": "slow"}, priority="High")
    safe = _task("safe", assignee={"gid": "fast"}, priority="High")
    tasks = {t.gid: t for t in (risky, safe)}
    return DependencyInputs(
        workspace_gid="w",
        projects=[sprint],
        tasks=tasks,
        home_project={g: "cur" for g in tasks},
        nodes=[],
        pace=Pace(points_per_person_day=0.5, source="default"),
        implicit_due={g: sprint.due_on for g in tasks if sprint.due_on},
        past_sprints=past,
    )


def test_model_trained_on_team_history_flags_the_risky_task_with_reasons() -> None:
    inputs = _current(_history())
    result = score_open_tasks(inputs, TODAY)
    assert result.status == "trained", result.note
    assert result.examples == 72 and 0 < result.late_examples < 72
    assert result.train_seconds is not None and result.train_seconds < 10  # ~1 s on a busy 2-core box
    assert set(result.scored) == {"risky", "safe"}  # both open, due at the sprint end (implicit)
    assert result.scored["risky"] > result.scored["safe"]
    flagged = {f.gid: f for f in result.flags}
    assert "risky" in flagged and "safe" not in flagged
    assert any("finished late" in r for r in flagged["risky"].reasons), flagged["risky"].reasons
    # In the scan, the model's probability becomes the task's Risk Score (no cascade touches it).
    from agents.dependencies.inputs import to_node

    inputs.nodes = [to_node(t, inputs.implicit_due.get(g)) for g, t in inputs.tasks.items()]
    analysis = analyse(
        inputs,
        trigger="scan",
        task=None,
        days=None,
        new_due_on=None,
        blocked_slip_days=3,
        today=TODAY,
        delay_model=result,
    )
    assert analysis.risks["risky"].score == flagged["risky"].score
    writes = {a.target: a.after for a in risk_actions(analysis, inputs)}
    assert writes["risky"] == {"Risk Score": flagged["risky"].score}
    ev = evidence(analysis, inputs)
    assert ev["delay_model"]["flagged"][0]["kind"] == "model"
    assert ev["risk_engines"]["model"] and ev["risk_scores"]["risky"] == flagged["risky"].score


def test_not_enough_history_is_a_clear_note_not_an_error() -> None:
    inputs = _current(_history(n_sprints=1, per_sprint=10))
    result = score_open_tasks(inputs, TODAY)
    assert result.status == "not_enough_history" and not result.flags
    assert result.note.startswith("delay-risk model: not enough history (10 settled tasks")
    empty = score_open_tasks(_current([]), TODAY)
    assert "not enough history (0 settled tasks" in empty.note


class _Reader:
    def __init__(self, projects: list[Project], tasks: dict[str, list[Task]]) -> None:
        self._projects = projects
        self._tasks = tasks

    def find_project(self, workspace_gid: str, name_or_gid: str) -> Project:
        return next(p for p in self._projects if name_or_gid in (p.gid, p.name))

    def projects(self, workspace_gid: str, archived: bool | None = False) -> list[Project]:
        return self._projects

    def project_tasks(self, project_gid: str, view: object = None) -> list[Task]:
        return self._tasks[project_gid]


def test_implicit_sprint_due_date_drives_predicted_late_and_is_never_written() -> None:
    # Sprint Mon 16 – Fri 27 Nov. A (explicit due Wed Dec 2, after the sprint) holds up B, which has
    # no due date: B is due at the sprint end (Fri 27) and is predicted late; C without links is not.
    sprint = _project("s", "Sprint 7", date(2026, 11, 16), date(2026, 11, 27))
    a = _task("A", due_on=date(2026, 12, 2), dependents=[{"gid": "B"}])
    b = _task("B", dependencies=[{"gid": "A"}])
    c = _task("C")
    inputs = read_dependency_inputs(_Reader([sprint], {"s": [a, b, c]}), "w", ["Sprint 7"])
    assert inputs.implicit_due == {"B": date(2026, 11, 27), "C": date(2026, 11, 27)}
    nodes = {n.gid: n for n in inputs.nodes}
    assert nodes["B"].due_implicit and not nodes["A"].due_implicit
    analysis = analyse(
        inputs, trigger="scan", task=None, days=None, new_due_on=None, blocked_slip_days=3, today=TODAY
    )
    assert analysis.predicted_late == ["B"]
    assert any(s.gid == "B" and "predicted late" in s.reason for s in analysis.slips)
    # A slip of A makes B late in the cascade, but no due-date write may carry the implicit date.
    slipped = analyse(
        inputs, trigger="manual", task="A", days=2, new_due_on=None, blocked_slip_days=3, today=TODAY
    )
    assert [x.gid for x in slipped.late()] == ["B"]
    assert slipped.cascade.by_gid()["B"].due_on == date(2026, 11, 27)
    assert shift_actions(slipped, inputs) == []
    assert all("due_on" not in (x.params or {}) for x in risk_actions(slipped, inputs))


# Issue 22: the product model learns only from the past and uses the features that won the
# time-ordered validation (Asana-readable, no absolute dates).
def test_product_model_uses_asana_features_without_absolute_dates() -> None:
    # The candidate history features that lost on issue 22's inner split stay out.
    lost = set(CANDIDATE_FEATURES) - set(OVERDUE_FEATURES)
    assert set(PRODUCT_FEATURES) == set(ASANA_FEATURES) - set(ABSOLUTE_DATES) - lost
    assert set(OVERDUE_FEATURES) <= set(PRODUCT_FEATURES)
    assert ModelConfig().features == PRODUCT_FEATURES
    assert dm.TEAM_CONFIG.features == PRODUCT_FEATURES
    assert not set(ABSOLUTE_DATES) & set(dm.TEAM_CONFIG.features)


def _item(opened: float, settled: float | None, late: bool | None, who: str | None) -> HistoryItem:
    return HistoryItem(
        opened_day=opened,
        due_set_day=opened,
        due_day=opened + 10,
        component="A",
        type="Bug",
        priority=None,
        settled_day=settled,
        late=late,
        assignee=who,
    )


def test_assignee_late_share_counts_only_outcomes_settled_before_the_moment() -> None:
    items = [
        _item(0, 10, True, "ann"),
        _item(1, 20, False, "ann"),
        _item(2, 30, True, "bob"),
        _item(3, None, None, "ann"),
    ]
    queries = [
        Query(as_of=t, component="A", type="Bug", priority=None, due_day=None, assignee=w)
        for t, w in ((10, "ann"), (15, "ann"), (25, "ann"), (40, "bob"), (40, None))
    ]
    shares = [f["assignee_late_share"] for f in assignee_features(items, queries)]
    assert shares == [None, 1.0, 0.5, 1.0, None]


def test_training_rows_never_see_their_assignees_later_outcomes(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[Mapping[str, Any]]] = []

    class Capturing(DelayRiskModel):
        def fit(
            self,
            records: Sequence[Mapping[str, Any]],
            labels: Sequence[bool] | np.ndarray,
            times: Sequence[float] | np.ndarray | None = None,
        ) -> DelayRiskModel:
            seen.append(list(records))
            return super().fit(records, labels, times)

    monkeypatch.setattr(dm, "DelayRiskModel", Capturing)
    inputs = _current(_history())
    result = dm.score_open_tasks(inputs, TODAY)
    assert result.status == "trained"
    (records,) = seen
    # Rows follow `_examples`; the first sprint's tasks (h0-*) were committed before any outcome.
    examples = dm._examples(inputs, TODAY)
    by_gid = {e.task.gid: r for e, r in zip(examples, records, strict=True)}
    assert all(by_gid[f"h0-{i}"]["assignee_late_share"] is None for i in range(12))

    # Every row sees exactly its assignee's outcomes known strictly before its commitment: on-time
    # ones once completed, late ones the day after their due date (or completion, if earlier).
    def known(o: dm._Example) -> date:
        done = o.task.completed_at.date() if o.task.completed_at else None
        overdue = o.due_on + timedelta(days=1)
        if not o.late:
            assert done is not None
            return done
        return min(done, overdue) if done else overdue

    for e in examples:
        assert e.task.assignee is not None
        before = [o.late for o in examples if o.task.assignee == e.task.assignee and known(o) < e.as_of]
        expected = round(sum(before) / len(before), 4) if before else None
        assert by_gid[e.task.gid]["assignee_late_share"] == expected, e.task.gid
    assert any(r["assignee_late_share"] for r in records)  # later sprints do learn from earlier ones
    # And the flagged task still names its assignee's record among its reasons.
    assert any("finished late" in r for f in result.flags for r in f.reasons)
