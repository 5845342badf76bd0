"""Capacity vs workload per person for the upcoming sprint, with a recommended point allocation.

Capacity per person = the team's P50 forecast split by each person's share of the points they
finished in past sprints (their demonstrated throughput), scaled by availability (1.0 = full sprint).
Someone with no history gets the team's average share. Over-allocation = assigned > capacity.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel

OVER_TOLERANCE = 1.10  # 10% above capacity is noise in story points; beyond it is over-allocation


class PersonLoad(BaseModel):
    gid: str
    name: str
    assigned_points: float
    capacity_points: float
    recommended_points: float
    load: float | None  # assigned / capacity
    over_allocated: bool
    unestimated_tasks: int = 0


class CapacityReport(BaseModel):
    team_capacity: float
    assigned_total: float
    unassigned_points: float
    people: list[PersonLoad]

    @property
    def over_allocated(self) -> list[PersonLoad]:
        return [p for p in self.people if p.over_allocated]


def capacity_report(
    team_capacity: float,
    assigned: Mapping[str, float],
    past_points: Mapping[str, float],
    names: Mapping[str, str],
    *,
    availability: Mapping[str, float] | None = None,
    unassigned_points: float = 0.0,
    unestimated: Mapping[str, int] | None = None,
) -> CapacityReport:
    """`assigned` and `past_points` are keyed by person gid; `names` lists the team (gid → name)."""
    avail = {g: max(0.0, float((availability or {}).get(g, 1.0))) for g in names}
    total_past = sum(max(0.0, past_points.get(g, 0.0)) for g in names)
    n = len(names) or 1
    raw_share = {
        g: (
            past_points.get(g, 0.0) / total_past
            if total_past > 0 and past_points.get(g, 0.0) > 0
            else 1.0 / n
        )
        for g in names
    }
    weighted = {g: raw_share[g] * avail[g] for g in names}
    norm = sum(raw_share.values()) or 1.0
    caps = {g: team_capacity * weighted[g] / norm for g in names}
    total_work = sum(assigned.values()) + unassigned_points
    # Recommended: the sprint's work (capped at team capacity) spread in proportion to capacity.
    target = min(total_work, sum(caps.values()))
    cap_sum = sum(caps.values()) or 1.0
    people = []
    for g in sorted(names, key=lambda x: (-assigned.get(x, 0.0), names[x])):
        a = float(assigned.get(g, 0.0))
        c = round(caps[g], 1)
        people.append(
            PersonLoad(
                gid=g,
                name=names[g],
                assigned_points=a,
                capacity_points=c,
                recommended_points=round(target * caps[g] / cap_sum, 1),
                load=round(a / c, 2) if c > 0 else None,
                over_allocated=(a > c * OVER_TOLERANCE) if c > 0 else a > 0,
                unestimated_tasks=int((unestimated or {}).get(g, 0)),
            )
        )
    return CapacityReport(
        team_capacity=round(team_capacity, 1),
        assigned_total=round(sum(assigned.values()), 1),
        unassigned_points=round(unassigned_points, 1),
        people=people,
    )
