"""Historical velocity and the sprint capacity derived from it.

Rules (documented because the planner's summary cites them):

* Velocity of a sprint = story points completed in that sprint project.
* Recommended capacity = median completed points of the last ``window`` sprints (default 6),
  times an availability factor (1.0 = the usual team). The median ignores one outlier sprint
  (holiday, incident) better than the mean does.
* Predicted range = the 15th-85th percentiles (linear interpolation) of all past completed
  points, times the same factor: roughly "seven sprints out of ten land here".
* Per-person capacity = the person's stated ``availability_points`` when given, otherwise their
  share of past completed points times the team velocity times their ``availability_ratio``
  (equal shares when nobody has history).
* With no past sprints nothing is invented: recommended capacity is None and a warning asks for
  ``--capacity`` or per-person availability. One sprint gives a point estimate flagged as such.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import date

from tools.planning.models import CapacityPlan, Person, SprintRecord, VelocityStats

DEFAULT_WINDOW = 6
LOW_PERCENTILE = 15.0
HIGH_PERCENTILE = 85.0


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolation percentile (numpy's default method), for 0 <= pct <= 100."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * pct / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _chronological(records: Sequence[SprintRecord]) -> list[SprintRecord]:
    # undated sprints keep their given order after the dated ones
    def key(r: SprintRecord) -> tuple[bool, date]:
        when = r.end_on or r.start_on
        return (when is None, when or date.max)

    return sorted(records, key=key)


def velocity_stats(
    records: Sequence[SprintRecord],
    *,
    window: int = DEFAULT_WINDOW,
    availability_factor: float = 1.0,
) -> VelocityStats:
    rule = (
        f"recommended = median completed points of the last {window} sprints x availability "
        f"{availability_factor:g}; range = P{LOW_PERCENTILE:g}-P{HIGH_PERCENTILE:g} of past sprints"
    )
    ordered = _chronological(records)
    values = [r.completed_points for r in ordered]
    names = [r.name for r in ordered]
    if not values:
        return VelocityStats(
            sprints=[],
            completed=[],
            mean=None,
            median=None,
            stdev=None,
            min=None,
            max=None,
            last3_mean=None,
            commitment_ratio=None,
            recommended_capacity=None,
            predicted_low=None,
            predicted_high=None,
            rule=rule,
            warnings=["no past sprints: give a capacity override or per-person availability"],
        )
    warnings: list[str] = []
    if len(values) == 1:
        warnings.append("only one past sprint: capacity is a single observation, low confidence")
    elif len(values) < 4:
        warnings.append(f"only {len(values)} past sprints: the range is rough")
    ratios = [r.completed_points / r.committed_points for r in ordered if r.committed_points > 0]
    recent = values[-window:] if window > 0 else values
    return VelocityStats(
        sprints=names,
        completed=values,
        mean=statistics.fmean(values),
        median=statistics.median(values),
        stdev=statistics.stdev(values) if len(values) > 1 else 0.0,
        min=min(values),
        max=max(values),
        last3_mean=statistics.fmean(values[-3:]),
        commitment_ratio=statistics.fmean(ratios) if ratios else None,
        recommended_capacity=statistics.median(recent) * availability_factor,
        predicted_low=percentile(values, LOW_PERCENTILE) * availability_factor,
        predicted_high=percentile(values, HIGH_PERCENTILE) * availability_factor,
        rule=rule,
        warnings=warnings,
    )


def person_capacities(people: Sequence[Person], team_velocity: float | None) -> dict[str, float | None]:
    """Points each person can take: explicit availability, else historical share of the velocity."""
    total_past = sum(max(p.past_points, 0.0) for p in people)
    out: dict[str, float | None] = {}
    for p in people:
        if p.availability_points is not None:
            out[p.gid] = max(p.availability_points, 0.0)
        elif team_velocity is None:
            out[p.gid] = None
        else:
            share = max(p.past_points, 0.0) / total_past if total_past > 0 else 1.0 / len(people)
            out[p.gid] = share * team_velocity * p.availability_ratio
    return out


def from_person_availability(people: Sequence[Person], *, team_velocity: float | None = None) -> CapacityPlan:
    """Team capacity as the sum of per-person capacities (see :func:`person_capacities`)."""
    if not people:
        return CapacityPlan(
            capacity=0.0,
            source="none",
            explanation="no people given",
            warnings=["no team members: capacity 0"],
        )
    caps = person_capacities(people, team_velocity)
    warnings = [
        f"{p.name or p.gid}: no availability and no team velocity; counted as 0"
        for p in people
        if caps[p.gid] is None
    ]
    per_person = {g: (v if v is not None else 0.0) for g, v in caps.items()}
    parts = []
    for p in people:
        how = "stated" if p.availability_points is not None else "share of velocity"
        parts.append(f"{p.name or p.gid} {per_person[p.gid]:.1f} ({how})")
    return CapacityPlan(
        capacity=sum(per_person.values()),
        source="availability",
        explanation="sum of per-person availability: " + ", ".join(parts),
        per_person=per_person,
        warnings=warnings,
    )


def split_capacity(people: Sequence[Person], total: float) -> dict[str, float]:
    """Distribute a team total over people in proportion to their individual capacities."""
    if not people:
        return {}
    raw = {g: (v or 0.0) for g, v in person_capacities(people, total).items()}
    weight = sum(raw.values())
    if weight <= 0:
        return {p.gid: total / len(people) for p in people}
    return {g: total * v / weight for g, v in raw.items()}


def resolve_capacity(
    stats: VelocityStats,
    *,
    override: float | None = None,
    people: Sequence[Person] = (),
) -> CapacityPlan:
    """Pick the sprint capacity: explicit override > stated availability > historical velocity."""
    if override is not None:
        if not math.isfinite(override) or override < 0:
            raise ValueError("capacity override must be a non-negative number")
        return CapacityPlan(
            capacity=override,
            source="override",
            explanation=f"capacity {override:g} points given explicitly",
            per_person=split_capacity(people, override),
            warnings=list(stats.warnings),
        )
    if any(p.availability_points is not None for p in people):
        plan = from_person_availability(people, team_velocity=stats.recommended_capacity)
        return plan.model_copy(update={"warnings": [*stats.warnings, *plan.warnings]})
    if stats.recommended_capacity is not None:
        cap = stats.recommended_capacity
        spread = (
            f"; past {len(stats.completed)} sprints: mean {stats.mean:.1f}, median {stats.median:.1f}, "
            f"stdev {stats.stdev:.1f}, range P15-P85 {stats.predicted_low:.1f}-{stats.predicted_high:.1f}"
        )
        return CapacityPlan(
            capacity=cap,
            source="velocity",
            explanation=f"{cap:.1f} points: {stats.rule}{spread}",
            per_person=split_capacity(people, cap) if people else {},
            warnings=list(stats.warnings),
        )
    return CapacityPlan(
        capacity=0.0,
        source="none",
        explanation="no history, availability or override",
        warnings=list(stats.warnings),
    )
