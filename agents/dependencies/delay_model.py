"""The delay-risk model on the team's own history, and its flags in the dependency scan.

Training examples are the settled tasks the scan has already read (the projects scanned and the
past sprint projects read for the pace; no extra API call): tasks whose due date — their own, or
their sprint's end when they have none — is before today. Label: late = completed after that date,
or still open past it. Only settled tasks are used because a task due later has no outcome yet:
counting the ones already finished as "on time" would teach the model that the current sprint's
work is never late. With fewer than `min_examples` examples, or only one class, there is no model
and the scan says so.

Scoring: every open task due today or later (own or implicit due date) gets the model's
probability; those at or above the model's F1-tuned threshold are flagged (kind "model") with the
top reasons from `DelayRiskModel.explain`. Their Risk Score is max(cascade score, 100 × probability).
The model is trained afresh on each scan (cheap at team scale) and never cached.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from threadpoolctl import threadpool_limits

from agents.dependencies.inputs import DependencyInputs, is_sprint_like
from tools.asana.models import Project, Task
from tools.delay_risk.asana_features import (
    assignee_stats,
    commitment_day,
    history_item,
    history_query,
    late,
    task_record,
)
from tools.delay_risk.history import HistoryItem, Query, assignee_features, history_features
from tools.delay_risk.model import DelayRiskModel, ModelConfig, Reason
from tools.feedback.models import FeedbackSource
from tools.feedback.thresholds import DELAY_RULE, from_feedback

# Team histories are hundreds of tasks, not the EMSE tens of thousands: fewer, smaller trees
# keep training well under a second, and a smaller leaf lets the trees split at all.
TEAM_CONFIG = ModelConfig(max_iter=100, forest_trees=100, min_samples_leaf=10)
MIN_EXAMPLES = 30
MIN_PER_CLASS = 5  # the threshold's out-of-fold predictions need each class in every fold
TOP_REASONS = 3
ENGINE = "delay-risk model (boosted trees + random forest, tools/delay_risk/model.py)"
_SPRINT = re.compile(r"\bsprint\b", re.IGNORECASE)
_DAY_FEATURES = {"opened_day", "due_day"}


@dataclass(frozen=True)
class ModelFlag:
    gid: str
    probability: float
    score: int  # round(100 × probability)
    reasons: list[str]


@dataclass
class DelayModelResult:
    status: str  # "trained", "not_enough_history", "off"
    note: str
    examples: int = 0
    late_examples: int = 0
    threshold: float | None = None
    train_seconds: float | None = None
    scored: dict[str, float] = field(default_factory=dict)  # open gid → probability
    flags: list[ModelFlag] = field(default_factory=list)
    # The threshold's adaptation to people's feedback (tools/feedback/thresholds.py), when read.
    feedback: dict[str, Any] | None = None

    def evidence(self) -> dict[str, Any]:
        return {
            "feedback": self.feedback,
            "engine": ENGINE if self.status == "trained" else None,
            "status": self.status,
            "note": self.note,
            "examples": self.examples,
            "late_examples": self.late_examples,
            "threshold": self.threshold,
            "train_seconds": self.train_seconds,
            "scored": len(self.scored),
            "flagged": [
                {
                    "gid": f.gid,
                    "kind": "model",
                    "probability": f.probability,
                    "risk_score": f.score,
                    "reasons": f.reasons,
                }
                for f in self.flags
            ],
        }


@dataclass(frozen=True)
class _Example:
    task: Task
    due_on: date
    as_of: date
    component: str | None
    late: bool


def _component(task: Task, fallback: str | None) -> str | None:
    """The task's home area: its first non-sprint project (sprint names change every sprint)."""
    for m in task.memberships:
        name = m.project.name if m.project else None
        if name and not _SPRINT.search(name):
            return name
    return fallback


def _examples(inputs: DependencyInputs, today: date) -> list[_Example]:
    """Settled tasks (due before today) from every project read, each once, at its earliest plan."""
    projects: dict[str, Project] = {p.gid: p for p in inputs.projects}
    seen: dict[str, _Example] = {}

    def add(task: Task, project: Project) -> None:
        if task.parent or task.resource_subtype == "approval":
            return
        sprint = is_sprint_like(project)
        due = task.due_on or (project.due_on if sprint else None)
        if due is None or due >= today:
            return
        prior = seen.get(task.gid)
        if prior is not None and prior.due_on <= due:
            return  # carried over: judged against the first sprint it was planned in
        start = project.start_on if sprint and task.due_on is None else None
        seen[task.gid] = _Example(
            task,
            due,
            commitment_day(task, due, start),
            _component(task, project.name),
            late(task, due),
        )

    for sprint in inputs.past_sprints:
        for t in sprint.tasks:
            add(t, sprint.project)
    for gid, t in inputs.tasks.items():
        add(t, projects[inputs.home_project[gid]])
    return sorted(seen.values(), key=lambda e: e.task.gid)


def _reason_text(r: Reason) -> str:
    value = r.value
    if r.feature in _DAY_FEATURES and isinstance(value, float):
        value = date.fromordinal(date(1970, 1, 1).toordinal() + int(value)).isoformat()
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{r.description}: {value} (+{round(100 * r.effect)} pts)"


def _add_history(records: list[dict[str, Any]], items: list[HistoryItem], queries: list[Query]) -> None:
    for record, team, person in zip(
        records, history_features(items, queries), assignee_features(items, queries), strict=True
    ):
        record.update(team)
        record.update(person)


def score_open_tasks(
    inputs: DependencyInputs,
    today: date,
    *,
    min_examples: int = MIN_EXAMPLES,
    config: ModelConfig = TEAM_CONFIG,
    feedback: FeedbackSource | None = None,
    now: datetime | None = None,
) -> DelayModelResult:
    examples = _examples(inputs, today)
    k, n_late = len(examples), sum(e.late for e in examples)
    if k < min_examples or min(n_late, k - n_late) < MIN_PER_CLASS:
        return DelayModelResult(
            status="not_enough_history",
            note=(
                f"delay-risk model: not enough history ({k} settled task{'s' if k != 1 else ''} with a due "
                f"date, {n_late} late; needs {min_examples}, at least {MIN_PER_CLASS} late and "
                f"{MIN_PER_CLASS} on time)"
            ),
            examples=k,
            late_examples=n_late,
        )
    # The assignee's open load is the one read now; their late share is replaced below by the
    # past-only one, so the settled outcomes are not given here.
    stats = assignee_stats([t for t in inputs.tasks.values() if not t.completed], [])
    records = [
        task_record(e.task, due_on=e.due_on, as_of=e.as_of, component=e.component, stats=stats)
        for e in examples
    ]
    projects = {p.gid: p for p in inputs.projects}
    # Team and assignee history as of each row's moment: settled examples count from the day their
    # outcome was known, every other task read only as opened — so a training row never learns from
    # a later outcome, its own included (tools/delay_risk/history.py).
    settled = {e.task.gid for e in examples}
    items = [history_item(e.task, due_on=e.due_on, component=e.component, is_late=e.late) for e in examples]
    items += [
        history_item(
            t,
            due_on=t.due_on or inputs.implicit_due.get(gid),
            component=_component(t, projects[inputs.home_project[gid]].name),
            is_late=None,
        )
        for gid, t in inputs.tasks.items()
        if gid not in settled
    ]
    queries = [history_query(e.task, due_on=e.due_on, as_of=e.as_of, component=e.component) for e in examples]
    _add_history(records, items, queries)
    started = time.perf_counter()
    # One OpenMP thread: at a few hundred rows, thread start-up and spinning cost more than they
    # save, and on a busy worker they cost seconds.
    with threadpool_limits(1):
        model = DelayRiskModel(config).fit(records, [e.late for e in examples])
    seconds = round(time.perf_counter() - started, 3)
    # Confirmed misses lower the F1-tuned threshold, false alarms raise it (bounded; see the rule).
    adapted = None
    if now is not None:
        base = round(model.threshold, 4)
        adapted = from_feedback(feedback, base, DELAY_RULE, task_gids=list(inputs.tasks), now=now)
    threshold = adapted.value if adapted else model.threshold
    targets: list[tuple[str, dict[str, Any]]] = []
    for gid, t in sorted(inputs.tasks.items()):
        due = t.due_on or inputs.implicit_due.get(gid)
        if t.completed or due is None or due < today:
            continue  # overdue open tasks are the cascade's "overdue" slips already
        home = projects[inputs.home_project[gid]]
        targets.append(
            (gid, task_record(t, due_on=due, as_of=today, component=_component(t, home.name), stats=stats))
        )
    result = DelayModelResult(
        status="trained",
        note=(
            f"delay-risk model: trained on {k} settled tasks ({n_late} late) in {seconds:g} s; "
            + (adapted.note() if adapted and adapted.moved else f"threshold {threshold:.2f}")
        ),
        examples=k,
        late_examples=n_late,
        threshold=round(threshold, 4),
        train_seconds=seconds,
        feedback=adapted.evidence() if adapted else None,
    )
    if not targets:
        return result
    target_queries = []
    for gid, _ in targets:
        t = inputs.tasks[gid]
        due = t.due_on or inputs.implicit_due.get(gid)
        assert due is not None  # targets all have a due date
        home = projects[inputs.home_project[gid]]
        target_queries.append(history_query(t, due_on=due, as_of=today, component=_component(t, home.name)))
    _add_history([r for _, r in targets], items, target_queries)
    with threadpool_limits(1):
        proba = model.predict_proba([r for _, r in targets])
        for (gid, record), p in zip(targets, proba, strict=True):
            result.scored[gid] = round(float(p), 4)
            if p >= threshold:
                reasons = [_reason_text(r) for r in model.explain(record, top=TOP_REASONS)]
                result.flags.append(ModelFlag(gid, round(float(p), 4), int(round(100 * float(p))), reasons))
    result.flags.sort(key=lambda f: (-f.probability, f.gid))
    return result


def model_off(reason: str) -> DelayModelResult:
    return DelayModelResult(status="off", note=f"delay-risk model: {reason}")
