"""One story per stand-up: the headline status follows the findings, and the findings follow the plan.

Status rule (documented; it is the Asana status update's type and the headline's words): the
worse of the burndown's status (tools/standup/burndown.py) and the findings' status, where the
findings' status applies the burndown's thresholds to the share of the sprint that is open and at
risk or blocked (the larger of its share of the scope's points and of its tasks): ≤ 10 % on track,
≤ 25 % at risk, otherwise off track. So a stand-up never says "on track" while a material share
(more than 10 %) of the sprint is at risk or blocked.

`contradictions` lists what a stand-up states against its sprint's plan; tests use it, and so does
the simulated-team-life eval, which counts them (there should be none).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Field

from agents.proposal import ActionKind, Proposal
from tools.standup.burndown import AT_RISK_GAP, ON_TRACK_GAP, status_from_gap
from tools.standup.capacity import Workload, assess
from tools.standup.models import TaskState
from tools.standup.risk import KINDS

STATUSES = ("on_track", "at_risk", "off_track")
_PHRASE = {
    "on_track": re.compile(r"\bon[\s-]+track\b", re.I),
    "off_track": re.compile(r"\boff[\s-]+track\b", re.I),
}
_NEGATION = re.compile(r"\b(?:not|isn't|is not|no longer|n't)\s*$", re.I)


def flagged_share(
    open_points: Mapping[str, float | None], flagged: Iterable[str], *, scope_points: float, scope_tasks: int
) -> float:
    """Share of the sprint that is open and flagged: the larger of its share of the scope's points
    and of its tasks (unestimated work counts by number). Measured against the scope, like the
    burndown's gap, so one blocked task on the last day is not "half of what is left"."""
    hit = {g for g in flagged if g in open_points}
    by_points = sum(open_points[g] or 0.0 for g in hit) / scope_points if scope_points > 0 else 0.0
    by_count = len(hit) / scope_tasks if scope_tasks > 0 else 0.0
    return min(1.0, max(by_points, by_count))


def findings_status(share: float) -> str:
    """The burndown's thresholds applied to the flagged share of the open work."""
    return status_from_gap(share, 1.0)


def worst(*statuses: str) -> str:
    return max(statuses, key=lambda s: STATUSES.index(s) if s in STATUSES else 0)


def overall_status(burndown_status: str, share: float) -> str:
    return worst(burndown_status, findings_status(share))


def claimed_statuses(text: str) -> set[str]:
    """The statuses (on_track, off_track) the text claims without negating them ("not on track")."""
    found: set[str] = set()
    for status, phrase in _PHRASE.items():
        for m in phrase.finditer(text or ""):
            if not _NEGATION.search(text[: m.start()]):
                found.add(status)
    return found


def headline_agrees(headline: str, status: str) -> bool:
    """False when the headline claims a status other than `status` ("at risk" alone is not a
    claim: "two tasks at risk" fits an on-track sprint)."""
    return all(claim == status for claim in claimed_statuses(headline))


class PlannedSprint(BaseModel):
    """What a sprint's plan states: each task's owner and points, and each person's capacity."""

    owners: dict[str, str | None] = Field(default_factory=dict)  # task gid → assignee gid
    points: dict[str, float | None] = Field(default_factory=dict)
    capacity: dict[str, float] = Field(default_factory=dict)  # person gid → points for the sprint

    @classmethod
    def from_tasks(
        cls, tasks: Iterable[TaskState], capacity: Mapping[str, float] | None = None
    ) -> PlannedSprint:
        """The sprint's tasks as planned; without `capacity`, each person's commitment stands in
        (the points the plan assigned them, which it kept within their capacity)."""
        rows = list(tasks)
        owners = {t.gid: t.assignee_gid for t in rows}
        points = {t.gid: t.points for t in rows}
        if capacity is None:
            cap: dict[str, float] = {}
            for t in rows:
                if t.assignee_gid:
                    cap[t.assignee_gid] = cap.get(t.assignee_gid, 0.0) + (t.points or 0.0)
        else:
            cap = dict(capacity)
        return cls(owners=owners, points=points, capacity=cap)

    @classmethod
    def from_plan_evidence(cls, evidence: Mapping[str, Any]) -> PlannedSprint:
        """From the planner proposal's evidence: the assignment and each person's capacity in it."""
        assignment = evidence.get("assignment") or {}
        owners: dict[str, str | None] = dict(assignment.get("assignments") or {})
        capacity = {row["gid"]: float(row["capacity"]) for row in assignment.get("loads") or []}
        return cls(owners=owners, capacity=capacity)


def contradictions(plan: PlannedSprint, standup: Proposal) -> list[str]:
    """What `standup` (a stand-up proposal) states against `plan`, one sentence each.

    - an at-risk flag of a kind no rule produces;
    - a capacity flag on work whose owner is within the capacity the plan gave them (their
      remaining work fits their remaining share of it: the young-sprint case);
    - a status better than the findings (on track with more than 10 % of the sprint at risk or
      blocked), a status update of another type than the stand-up's status, or a headline that
      claims another status;
    - a nudge without its (person, day) facts, a second nudge to one person, a nudge to someone
      with nothing at risk or blocked, or one that lands on a task that is not theirs.
    A stand-up that found today's already posted (no evidence of findings) has nothing to check.
    """
    ev = standup.evidence
    if ev.get("already_done") or "at_risk" not in ev:
        return []
    out: list[str] = []
    day = str(ev.get("date"))
    pace = ev.get("pace") or {}
    elapsed, left = int(pace.get("days_elapsed") or 0), int(pace.get("days_left") or 0)
    loads = {p: Workload.model_validate(w) for p, w in (pace.get("workloads") or {}).items()}
    owner = {g: p for p, w in loads.items() for g in w.open_tasks}
    at_risk = {r["task_gid"]: r for r in ev.get("at_risk") or []}
    blocked = {b["task_gid"] for b in ev.get("blockers") or []}

    for gid, row in at_risk.items():
        for kind in row.get("kinds") or []:
            if kind not in KINDS:
                out.append(f"{gid}: flagged at risk as {kind!r}, which no at-risk rule produces")
        if "capacity" in (row.get("kinds") or []):
            person = owner.get(gid)
            if person is None or person not in loads:
                out.append(f"{gid}: flagged for its owner's capacity, but it has no owner with open work")
                continue
            capacity = plan.capacity.get(person)
            if capacity is None:
                continue  # the plan gave this person nothing: no capacity to contradict
            w = loads[person]
            planned = assess(
                person,
                capacity,
                done=w.done,
                open_points=w.open,
                started=w.started,
                days_total=elapsed + left,
                days_elapsed=elapsed,
            )
            if planned.fits:
                out.append(
                    f"{gid}: flagged at risk for capacity, but its owner {person} has "
                    f"{planned.remaining_work:g} points left, within the {capacity:g} the plan gave them "
                    f"({planned.limit:.1f} fit in the {left} of {elapsed + left} working days left)"
                )

    status = str(ev.get("status_type") or "")
    open_points = {str(g): p for g, p in (ev.get("open_points") or {}).items()}
    scope = ev.get("scope") or {}
    share = flagged_share(
        open_points,
        set(at_risk) | blocked,
        scope_points=float(scope.get("points") or 0.0),
        scope_tasks=int(scope.get("tasks") or 0),
    )
    if status == "on_track" and share > ON_TRACK_GAP + 1e-9:
        out.append(f"status on track with {share:.0%} of the sprint at risk or blocked")
    if status == "at_risk" and share > AT_RISK_GAP + 1e-9:
        out.append(f"status at risk with {share:.0%} of the sprint at risk or blocked (off track)")
    for a in standup.actions:
        if a.kind == ActionKind.POST_STATUS_UPDATE and a.params.get("status_type") != status:
            out.append(f"status update of type {a.params.get('status_type')} for a stand-up status {status}")
    headline = str(ev.get("headline") or "")
    if headline and not headline_agrees(headline, status):
        out.append(f"headline {headline!r} disagrees with the status {status}")

    nudged: dict[str, int] = {}
    for a in standup.actions:
        if a.kind != ActionKind.POST_COMMENT:
            continue
        facts = a.facts or {}
        person = facts.get("nudge")
        if not person or facts.get("day") != day:
            out.append(f"nudge on {a.target} without its facts (person, day {day}): {facts}")
            continue
        nudged[person] = nudged.get(person, 0) + 1
        theirs = {
            g for g in (loads[person].open_tasks if person in loads else []) if g in at_risk or g in blocked
        }
        if not theirs:
            out.append(f"nudge to {person}, who owns nothing at risk or blocked")
        elif a.target not in theirs:
            out.append(f"nudge to {person} lands on {a.target}, not on one of their flagged tasks")
    out += [
        f"{n} nudges to {p} on {day} (at most one per person per day)" for p, n in nudged.items() if n > 1
    ]
    return out
