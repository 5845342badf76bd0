"""The dependency manager's numbers: graph, cycles, critical path, slips, cascade and risk scores.

Slip triggers (structured facts only; task text never decides anything):
- explicit: a task with `days` (working days later) or `new_due_on`;
- due_date_changed: the task's current due date is its new finish (its dependents still carry
  the old plan);
- blocked: a task whose Status is Blocked is assumed to slip `blocked_slip_days`;
- scan: every Blocked task (as above), every overdue open task (can finish today at best), and
  every task the schedule already predicts late (the cascade of the current plan gives it a
  negative slack: its prerequisites finish too late for its own due date).

Due dates here include the implicit sprint-end ones (see agents.dependencies.inputs). In a scan the
delay-risk model (agents.dependencies.delay_model) adds its own flags; a flagged task's Risk Score
is the higher of the cascade's score and the model's 100 × probability.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import networkx as nx

from agents.dependencies.delay_model import DelayModelResult
from agents.dependencies.inputs import DependencyInputs
from tools.delay_risk.task_score import TaskRisk, risk_score
from tools.dependencies.calendar import add_working_days
from tools.dependencies.cascade import propagate
from tools.dependencies.critical_path import CriticalPath, critical_path
from tools.dependencies.durations import DurationModel
from tools.dependencies.graph import build_graph, find_cycles, task_of
from tools.dependencies.models import Affected, CascadeResult, Slip, TaskNode

Trigger = Literal["manual", "due_date_changed", "blocked", "scan"]


@dataclass
class DependencyAnalysis:
    graph: nx.DiGraph
    durations: DurationModel
    cycles: list[list[str]]
    critical: CriticalPath
    slips: list[Slip]
    cascade: CascadeResult
    risks: dict[str, TaskRisk] = field(default_factory=dict)
    predicted_late: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    delay_model: DelayModelResult | None = None

    def node(self, gid: str) -> TaskNode:
        return task_of(self.graph, gid)

    def late(self) -> list[Affected]:
        return [a for a in self.cascade.affected if a.late and a.depth > 0]

    def direct_dependents(self) -> list[Affected]:
        return [a for a in self.cascade.affected if a.depth == 1]


def _open(g: nx.DiGraph, gid: str) -> bool:
    t = task_of(g, gid)
    return t.known and not t.completed


def predicted_late(g: nx.DiGraph, durations: DurationModel, today: date) -> list[str]:
    """Open tasks whose current plan already makes them late (negative slack with no slip at all)."""
    roots = [n for n in g if _open(g, n) and not any(_open(g, p) for p in g.predecessors(n))]
    res = propagate(
        g, [Slip(r, days=0) for r in roots], today=today, durations=durations, report_cycles=False
    )
    return sorted(a.gid for a in res.affected if a.late)


def slips_for(
    g: nx.DiGraph,
    trigger: Trigger,
    *,
    task: str | None,
    days: int | None,
    new_due_on: date | None,
    blocked_slip_days: int,
    today: date,
    late_now: list[str],
) -> list[Slip]:
    if trigger != "scan":
        if task is None:
            raise ValueError(f"trigger {trigger!r} needs a task")
        if task not in g or not task_of(g, task).known:
            raise ValueError(f"task {task} is not in the projects read")
        node = task_of(g, task)
        if trigger == "due_date_changed":
            if node.due_on is None:
                raise ValueError(f"task {task} has no due date")
            return [Slip(task, new_finish=new_due_on or node.due_on, reason="due date moved")]
        if trigger == "blocked":
            return [Slip(task, days=days if days is not None else blocked_slip_days, reason="blocked")]
        if new_due_on is not None:
            return [Slip(task, new_finish=new_due_on, reason=f"due date moved to {new_due_on.isoformat()}")]
        if days is None:
            raise ValueError("a manual slip needs days or new_due_on")
        return [Slip(task, days=days, reason=f"slips {days} working day{'s' if days != 1 else ''}")]
    out: list[Slip] = []
    for gid in sorted(g):
        t = task_of(g, gid)
        if not t.known or t.completed:
            continue
        if t.blocked:
            out.append(Slip(gid, days=blocked_slip_days, reason="blocked"))
        elif t.due_on is not None and t.due_on < today:
            out.append(Slip(gid, new_finish=add_working_days(today, 0), reason="overdue"))
        elif gid in late_now:
            out.append(Slip(gid, days=0, reason="predicted late by the current schedule"))
    return out


def _suggestions(
    g: nx.DiGraph, cascade: CascadeResult, names: dict[str, str], critical: CriticalPath
) -> list[str]:
    """Resequencing ideas (text for the team; the link and date changes stay human decisions)."""
    late_by_root: dict[str, int] = {}
    by = cascade.by_gid()

    def root_of(gid: str) -> str:
        cur = gid
        while by[cur].via is not None and by[cur].via in by:
            cur = by[cur].via  # type: ignore[assignment]
        return cur

    for a in cascade.affected:
        if a.late and a.depth > 0:
            r = root_of(a.gid)
            late_by_root[r] = late_by_root.get(r, 0) + 1
    out = []
    on_critical = set(critical.gids)
    for root, n in sorted(late_by_root.items(), key=lambda kv: (-kv[1], kv[0])):
        where = " (it is on the critical path)" if root in on_critical else ""
        out.append(
            f"Unblock or pull forward “{names.get(root, root)}” first: it pushes {n} task"
            f"{'s' if n != 1 else ''} past their due dates{where}."
        )
    for a in cascade.affected:
        if not (a.late and a.via):
            continue
        others = [p for p in g.predecessors(a.gid) if p != a.via and _open(g, p)]
        if a.depth == 1 and not others:
            out.append(
                f"If “{names.get(a.gid, a.gid)}” can start without “{names.get(a.via, a.via)}” "
                "(e.g. against a "
                "stub or a partial delivery), drop or relax that dependency link to keep its due date."
            )
    return out[:8]


def analyse(
    inputs: DependencyInputs,
    *,
    trigger: Trigger,
    task: str | None,
    days: int | None,
    new_due_on: date | None,
    blocked_slip_days: int,
    today: date,
    delay_model: DelayModelResult | None = None,
) -> DependencyAnalysis:
    durations = DurationModel(points_per_person_day=inputs.pace.points_per_person_day)
    g = build_graph(inputs.nodes)
    cycles = find_cycles(g)
    crit = critical_path(g, durations)
    late_now = predicted_late(g, durations, today)
    slips = slips_for(
        g,
        trigger,
        task=task,
        days=days,
        new_due_on=new_due_on,
        blocked_slip_days=blocked_slip_days,
        today=today,
        late_now=late_now,
    )
    cascade = propagate(g, slips, today=today, durations=durations)
    risks: dict[str, TaskRisk] = {}
    for a in cascade.affected:
        t = task_of(g, a.gid)
        open_pre = sum(1 for p in g.predecessors(a.gid) if _open(g, p))
        risks[a.gid] = risk_score(
            slack_days=a.slack_days,
            delay_days=a.delay_days,
            blocked=t.blocked,
            open_prerequisites=open_pre,
            overdue=t.due_on is not None and t.due_on < today,
        )
    for flag in delay_model.flags if delay_model else []:
        cascade_risk = risks.get(flag.gid)
        why = f"delay-risk model: {round(100 * flag.probability)}% chance of finishing late"
        reasons = [why, *flag.reasons]
        if cascade_risk is None:
            risks[flag.gid] = TaskRisk(score=flag.score, reasons=reasons)
        else:
            risks[flag.gid] = TaskRisk(
                score=max(cascade_risk.score, flag.score), reasons=[*cascade_risk.reasons, *reasons]
            )
    names = {n: task_of(g, n).name or n for n in g}
    return DependencyAnalysis(
        graph=g,
        durations=durations,
        cycles=cycles,
        critical=crit,
        slips=slips,
        cascade=cascade,
        risks=risks,
        predicted_late=late_now,
        suggestions=_suggestions(g, cascade, names, crit),
        delay_model=delay_model,
    )
