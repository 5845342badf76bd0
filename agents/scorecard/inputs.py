"""The live scorecard's inputs: predictions from sprintpilot's own records, outcomes from Asana.

Predictions come from the proposals the agents saved (their evidence holds what they predicted
and when): triage estimates, the planner's capacity, the stand-up's at-risk list and nudges, the
dependency scan's Risk Scores, the forecast's next-sprint band, and each action that needed a
person with its decision. Outcomes are read through the Asana client only: finished tasks'
Story Points, completion dates against the sprint's (or the task's) due date, delivered points
of finished sprints, and the stories people wrote on nudged tasks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Protocol, runtime_checkable

from agents.planner.inputs import sprint_record
from agents.proposal import ActionKind, ApprovalClass, Proposal
from tools.asana.field_names import STORY_POINTS
from tools.asana.models import Project, Task
from tools.planning.phase import SPRINT_NAME, sprint_phase
from tools.scorecard.models import (
    BandPrediction,
    DecisionOutcome,
    EstimatePrediction,
    FlagRound,
    Nudge,
    Outcomes,
    Predictions,
    ProposedAction,
)

# The dependency manager's flag: the Risk Score it writes at or above the logistic midpoint (the
# replay's threshold, evals/replay/scorer_risk.py).
RISK_THRESHOLD = 50
# Proposals that predicted nothing: refused by the policy, or failed before their evidence.
NOT_PREDICTIONS = frozenset({"error", "denied"})
DECISIONS: dict[str, DecisionOutcome] = {"approve": "approved", "edit": "edited", "reject": "rejected"}
MAX_PROPOSALS = 5000


@runtime_checkable
class ProposalHistory(Protocol):
    """What the scorecard reads of the app database (SqlProposalRepository provides it)."""

    def list_proposals(self, status: str | None = None, limit: int = 100) -> Sequence[Any]: ...

    def get_proposal(self, proposal_id: str) -> Any: ...


@dataclass(frozen=True)
class Record:
    """One saved proposal as the scorecard needs it."""

    proposal: Proposal
    status: str
    at: datetime
    # n-th action that needed approval → approve | edit | reject
    decisions: dict[int, str] = field(default_factory=dict)


def read_records(
    history: ProposalHistory, since: datetime, until: datetime, projects: frozenset[str] | None = None
) -> list[Record]:
    """Proposals made in [since, until), oldest first; `projects` limits them to those acting there."""
    out = []
    for r in history.list_proposals(limit=MAX_PROPOSALS):
        at = _utc(r.created_at)
        if not (since <= at < until) or r.status in NOT_PREDICTIONS:
            continue
        p: Proposal = r.proposal
        if projects is not None and not (set(p.scope.project_gids) & projects):
            continue
        decisions: dict[int, str] = {}
        if any(a.approval_class == ApprovalClass.NEEDS_APPROVAL for a in p.actions):
            detail = history.get_proposal(r.id)
            decisions = {d.action_index: d.type for d in (detail.decisions if detail else [])}
        out.append(Record(p, str(r.status), at, decisions))
    return sorted(out, key=lambda x: x.at)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def _done_by(task: Task, deadline: date) -> bool:
    return bool(task.completed) and (
        task.completed_at is None or _utc(task.completed_at) <= _end_of(deadline)
    )


def _open_at(task: Task, at: datetime) -> bool:
    if task.created_at is not None and _utc(task.created_at) > at:
        return False
    return not task.completed or (task.completed_at is not None and _utc(task.completed_at) > at)


class AsanaOutcomes:
    """Reads what happened, each project and task once per scorecard."""

    def __init__(self, asana: Any, workspace: str, today: date) -> None:
        self.asana = asana
        self.workspace = workspace
        self.today = today
        self._projects: dict[str, Project] = {}
        self._tasks: dict[str, list[Task]] = {}
        self._by_name: dict[str, Project] | None = None

    def project(self, gid: str) -> Project:
        if gid not in self._projects:
            self._projects[gid] = self.asana.project(gid)
        return self._projects[gid]

    def tasks(self, gid: str) -> list[Task]:
        if gid not in self._tasks:
            self._tasks[gid] = [t for t in self.asana.project_tasks(gid) if not t.parent]
        return self._tasks[gid]

    def task(self, gid: str, projects: Iterable[str]) -> Task | None:
        for p in projects:
            for t in self.tasks(p):
                if t.gid == gid:
                    return t
        return None

    def sprint_named(self, name: str) -> Project | None:
        if self._by_name is None:
            self._by_name = {
                (p.name or "").casefold(): p for p in self.asana.projects(self.workspace, archived=None)
            }
        return self._by_name.get(name.casefold())

    def delivered(self, project: Project) -> float | None:
        """A finished sprint's delivered points (done by its end date); None while it runs."""
        if sprint_phase(project, self.today) != "finished":
            return None
        return sprint_record(project, self.tasks(project.gid)).completed_points


def _sprint_after(names: Sequence[str]) -> str | None:
    m = SPRINT_NAME.match(names[-1]) if names else None
    return f"Sprint {int(m.group(1)) + 1}" if m else None


def _planned_sprint(p: Proposal) -> str | None:
    for a in p.actions:
        if a.kind == ActionKind.CREATE_PROJECT and SPRINT_NAME.match(str(a.params.get("name") or "")):
            return str(a.params["name"])
    return None


def _flag_round(
    rec: Record, what: str, flagged: Iterable[str], projects: Sequence[str], src: AsanaOutcomes, out: Outcomes
) -> FlagRound:
    """Population: the scope's tasks open when the agent ran; each settles at its deadline (its due
    date for the dependency manager when it has one, else the sprint's end)."""
    population: list[str] = []
    settled: list[str] = []
    slipped: list[str] = []
    for gid in projects:
        project = src.project(gid)
        for t in src.tasks(gid):
            if not _open_at(t, rec.at):
                continue
            population.append(t.gid)
            deadline = (t.due_on if what == "delay risk" else None) or project.due_on
            if deadline is None:
                continue  # no date to slip against: never settles
            if _done_by(t, deadline):
                settled.append(t.gid)
            elif deadline < src.today:
                settled.append(t.gid)
                slipped.append(t.gid)
    out.settled[rec.proposal.id] = settled
    out.slipped[rec.proposal.id] = slipped
    return FlagRound(
        agent=rec.proposal.agent,
        what=what,
        round=rec.proposal.id,
        population=population,
        flagged=sorted(set(flagged)),
        at=rec.at,
    )


def _changes(asana: Any, tasks: set[str], me: str | None) -> dict[str, list[datetime]]:
    """When people (not sprintpilot) touched each task: their stories, and its completion."""
    stories = asana.stories_many(sorted(tasks)) if tasks else {}
    out: dict[str, list[datetime]] = {}
    for gid, rows in stories.items():
        out[gid] = sorted(
            _utc(s.created_at)
            for s in rows
            if s.created_at is not None and (s.created_by is None or s.created_by.gid != me)
        )
    return out


def gather(
    records: Sequence[Record], asana: Any, workspace: str, now: datetime
) -> tuple[Predictions, Outcomes]:
    """Predictions from `records` and their outcomes as Asana shows them at `now`."""
    src = AsanaOutcomes(asana, workspace, now.date())
    p, out = Predictions(), Outcomes(now=now)
    nudged: set[str] = set()
    for rec in records:
        prop, ev = rec.proposal, rec.proposal.evidence
        # Decisions are stored by the action's place among those that needed approval (the gate's
        # requests), not by its place in the proposal.
        gated = [a for a in prop.actions if a.approval_class == ApprovalClass.NEEDS_APPROVAL]
        for j, a in enumerate(gated):
            decision = DECISIONS.get(rec.decisions.get(j, ""), "undecided")
            p.actions.append(ProposedAction(agent=prop.agent, kind=a.kind.value, decision=decision))
        if prop.agent == "triage":
            for t in ev.get("tasks") or []:
                est = t.get("estimate") or {}
                if est.get("points") is None:
                    continue
                p.estimates.append(
                    EstimatePrediction(
                        agent="triage",
                        what="story points",
                        subject=str(t["gid"]),
                        estimate=float(est["points"]),
                        low=est.get("low"),
                        high=est.get("high"),
                        at=rec.at,
                    )
                )
                task = src.task(str(t["gid"]), prop.scope.project_gids)
                if task is not None and task.completed and (pts := task.number(STORY_POINTS)):
                    out.actuals[task.gid] = pts
        elif prop.agent == "planner":
            capacity = (ev.get("capacity") or {}).get("capacity")
            name = _planned_sprint(prop)
            if capacity is None or name is None:
                continue
            p.estimates.append(
                EstimatePrediction(
                    agent="planner",
                    what="sprint velocity",
                    subject=f"sprint:{name}",
                    estimate=capacity,
                    at=rec.at,
                )
            )
            _sprint_actual(src, name, out)
        elif prop.agent == "forecast":
            pct = (ev.get("next_sprint") or {}).get("percentiles") or {}
            name = _sprint_after(ev.get("history_names") or [])
            if name is None or not all(str(q) in pct for q in (10, 50, 90)):
                continue
            p.bands.append(
                BandPrediction(
                    agent="forecast",
                    subject=f"sprint:{name}",
                    p10=float(pct["10"]),
                    p50=float(pct["50"]),
                    p90=float(pct["90"]),
                    at=rec.at,
                )
            )
            _sprint_actual(src, name, out)
        elif prop.agent == "standup" and "at_risk" in ev:
            flagged = [str(r["task_gid"]) for r in ev.get("at_risk") or []]
            p.flags.append(_flag_round(rec, "at risk", flagged, prop.scope.project_gids[:1], src, out))
            if rec.status in ("applied", "partially_applied"):
                for n in ev.get("nudged") or []:
                    tasks = [str(g) for g in (n.get("items") or [n.get("task")]) if g]
                    p.nudges.append(
                        Nudge(agent="standup", person=str(n.get("person")), tasks=tasks, at=rec.at)
                    )
                    nudged.update(tasks)
        elif prop.agent == "dependencies" and "risk_scores" in ev:
            scores: dict[str, Any] = ev.get("risk_scores") or {}
            flagged = [g for g, s in scores.items() if s is not None and s >= RISK_THRESHOLD]
            p.flags.append(_flag_round(rec, "delay risk", flagged, prop.scope.project_gids, src, out))
    if nudged:
        me = getattr(asana.me(), "gid", None)
        out.changes = _changes(asana, nudged, me)
    return p, out


def _sprint_actual(src: AsanaOutcomes, name: str, out: Outcomes) -> None:
    project = src.sprint_named(name)
    delivered = src.delivered(project) if project is not None else None
    if delivered is not None:
        out.actuals[f"sprint:{name}"] = delivered
