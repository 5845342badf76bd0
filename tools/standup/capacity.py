"""Each person's remaining work against their remaining capacity: the plan's capacity, day by day.

The planner gives every person a capacity for the sprint in points (tools/planning/velocity.py:
their stated availability, else their share of the team's velocity) and assigns them only what
fits it (tools/planning/assignment.py, stage 1: no overload whenever a fitting assignment exists).
The stand-up keeps that notion instead of inventing its own:

- capacity of a person = the points the plan gave them for the sprint: passed explicitly by the
  caller (`StandupArgs.capacity`, like the planner's `availability`), else as the plan stated it
  in its status update on the sprint project (the planner writes one "Capacity per person" line,
  `plan_capacity_line`; the stand-up reads that project's status updates anyway, so it costs no
  call), else the points assigned to them when the sprint started (what the plan committed them
  to, which it kept within their capacity: a sprint planned by hand states nothing more).
- capacity is spread evenly over the sprint's working days, at the plan's pace capacity/n per day:
  after k of n days, (n−k) days of it are left (today counts as left: the stand-up opens the day).
- once half the sprint's working days are gone, the person's own pace is evidence too: points
  completed per elapsed day, when lower than the plan's, stand in for it, but never below half of
  it (one slow half-sprint does not zero anybody's capacity). Earlier, completions are too lumpy
  to say anything (a 5-point task lands on one day), so the plan's pace stands. This is the
  planner's notion again: its capacity is velocity, i.e. points completed.
- remaining work = open points − work in flight, where work in flight is what the person has
  presumably done on their started tasks at the plan's pace (capacity·k/n − points completed,
  between 0 and the started tasks' points): story points only land when a task completes, so
  without this credit every multi-day task would look late the day after it started.
- the person is within capacity while remaining work ≤ remaining capacity + 10 % of their capacity:
  the same tolerance as the team burndown's "on track" (tools/standup/burndown.py ON_TRACK_GAP).

On the sprint's first day nothing has elapsed, so remaining capacity is the whole capacity and
every person whose commitment the plan fitted is within it: a young sprint is never "at risk" by
capacity. From then on falling behind the plan's line (no progress relative to the burndown) or
gaining scope beyond the plan is what puts work at risk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from tools.standup.burndown import ON_TRACK_GAP
from tools.standup.models import TaskState

# "plan": the plan's (given by the caller or stated in the plan's status update);
# "committed": the points assigned at the sprint start.
CapacitySource = Literal["plan", "committed"]

PLAN_CAPACITY_LABEL = "Capacity per person (points): "
_PLAN_ENTRY = re.compile(r"^(?P<name>.*\S)\s+(?P<cap>\d+(?:\.\d+)?)\s+\(\d+(?:\.\d+)?\s+planned\)$")
EVIDENCE_AFTER = 0.5  # share of the sprint's working days after which one's own pace counts
PACE_FLOOR = 0.5  # the pace used is at least this share of the plan's


class Workload(BaseModel):
    """One person's numbers for the capacity rule (points; days are working days)."""

    person_gid: str
    capacity: float  # for the whole sprint
    source: CapacitySource
    rate: float  # points per working day used for what is left
    done: float  # completed in the sprint so far
    open: float
    started: float  # open points in started tasks
    in_flight: float
    remaining_work: float
    remaining_capacity: float
    tolerance: float
    open_tasks: list[str] = Field(default_factory=list)

    @property
    def fits(self) -> bool:
        return self.remaining_work <= self.remaining_capacity + self.tolerance + 1e-9

    @property
    def limit(self) -> float:
        """The most remaining work that still fits."""
        return self.remaining_capacity + self.tolerance


def _num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def plan_capacity_line(rows: Iterable[tuple[str, float, float]]) -> str:
    """The plan's per-person capacity as one markdown line of its summary: (name, capacity, points
    assigned) each. Read back by `parse_plan_capacity`."""
    parts = [
        f"{' '.join(name.split())} {_num(cap)} ({_num(assigned)} planned)" for name, cap, assigned in rows
    ]
    return "- " + PLAN_CAPACITY_LABEL + "; ".join(parts) + "."


def parse_plan_capacity(text: str | None) -> dict[str, float]:
    """Person name → capacity from a plan summary's capacity line (empty when there is none). The
    line may come back as plain text (Asana shows the "- " bullet as "• ")."""
    for line in (text or "").splitlines():
        head, found, rest = line.partition(PLAN_CAPACITY_LABEL)
        if found and not head.strip(" -•*\t"):
            out: dict[str, float] = {}
            for part in rest.strip().rstrip(".").split("; "):
                m = _PLAN_ENTRY.match(part.strip())
                if m:
                    out[m["name"]] = float(m["cap"])
            return out
    return {}


def capacity_by_gid(by_name: Mapping[str, float], tasks: Iterable[TaskState]) -> dict[str, float]:
    """Names of a plan's capacity line → the gids of the sprint's assignees bearing them (a name two
    assignees share is left out: their commitment stands in)."""
    gids: dict[str, set[str]] = {}
    for t in tasks:
        if t.assignee_gid and t.assignee_name:
            gids.setdefault(" ".join(t.assignee_name.split()), set()).add(t.assignee_gid)
    return {next(iter(g)): by_name[n] for n, g in gids.items() if n in by_name and len(g) == 1}


def committed_capacity(tasks: Iterable[TaskState], committed: Iterable[str]) -> dict[str, float]:
    """Points each assignee held among the tasks of the sprint's scope at its start."""
    at_start = set(committed)
    out: dict[str, float] = {}
    for t in tasks:
        if t.gid in at_start and t.assignee_gid:
            out[t.assignee_gid] = out.get(t.assignee_gid, 0.0) + (t.points or 0.0)
    return out


def assess(
    person: str,
    capacity: float,
    *,
    done: float,
    open_points: float,
    started: float,
    days_total: int,
    days_elapsed: int,
    source: CapacitySource = "committed",
    open_tasks: Iterable[str] = (),
) -> Workload:
    """The capacity rule on one person's numbers (see the module docstring)."""
    n = max(1, days_total)
    k = min(max(0, days_elapsed), n)
    planned = max(0.0, capacity) / n
    rate = planned
    if k and k / n >= EVIDENCE_AFTER:
        rate = min(planned, max(done / k, PACE_FLOOR * planned))
    in_flight = min(max(rate * k - done, 0.0), started)
    return Workload(
        person_gid=person,
        capacity=capacity,
        source=source,
        rate=rate,
        done=done,
        open=open_points,
        started=started,
        in_flight=in_flight,
        remaining_work=open_points - in_flight,
        remaining_capacity=rate * (n - k),
        tolerance=ON_TRACK_GAP * max(0.0, capacity),
        open_tasks=list(open_tasks),
    )


def workload(
    person: str,
    capacity: float,
    tasks: Iterable[TaskState],
    *,
    days_total: int,
    days_elapsed: int,
    source: CapacitySource = "committed",
    start: date | None = None,
) -> Workload:
    """The capacity rule's numbers for `person` (their tasks among `tasks`; work completed before
    `start` is not part of the sprint)."""
    mine = [
        t
        for t in tasks
        if t.assignee_gid == person
        and not (start and t.completed and t.completed_at and t.completed_at.date() < start)
    ]
    open_tasks = [t for t in mine if not t.completed]
    return assess(
        person,
        capacity,
        done=sum(t.points or 0.0 for t in mine if t.completed),
        open_points=sum(t.points or 0.0 for t in open_tasks),
        started=sum(t.points or 0.0 for t in open_tasks if t.started),
        days_total=days_total,
        days_elapsed=days_elapsed,
        source=source,
        open_tasks=[t.gid for t in open_tasks],
    )


def workloads(
    tasks: list[TaskState],
    capacity: Mapping[str, float],
    sprint_days: list[date],
    today: date,
    *,
    given: Iterable[str] = (),
) -> dict[str, Workload]:
    """Every assignee with open work. `capacity`: person gid → points for the sprint; people in
    `given` have it from the plan, the others from their commitment at the start (0 when they had
    none: nothing was planned for them)."""
    planned = set(given)
    elapsed = sum(1 for d in sprint_days if d < today)
    # Tasks grouped by assignee once: each person's workload reads only their own tasks.
    by_person: dict[str, list[TaskState]] = {}
    for t in tasks:
        if t.assignee_gid:
            by_person.setdefault(t.assignee_gid, []).append(t)
    people = sorted({t.assignee_gid for t in tasks if t.assignee_gid and not t.completed})
    return {
        p: workload(
            p,
            float(capacity.get(p, 0.0)),
            by_person[p],
            days_total=len(sprint_days),
            days_elapsed=elapsed,
            source="plan" if p in planned else "committed",
            start=sprint_days[0] if sprint_days else None,
        )
        for p in people
    }
