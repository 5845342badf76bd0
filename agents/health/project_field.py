"""The per-project Health value: which projects get which score, and the actions that write it.

The portfolio's field settings give every project in it a value of the field (Asana's portfolio
fields). Each sprint project gets the score of the window ending at that sprint (the trend the
status update shows); the portfolio's other projects (the backlog) get the team's current score.
Sprint projects older than the sprints read are left alone. A missing or unusable field is not
an error: the run says so and writes the status updates only.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.proposal import Action, ActionKind
from graphs.stale import normalize
from tools.asana.models import CustomField, Project
from tools.health.score import HEALTHY, WATCH, HealthTrend

# The enum option names a Health field of type enum is expected to have, per score band.
BAND_OPTIONS = {"healthy": "On track", "watch": "At risk", "at_risk": "Off track"}


class HealthFieldPlan(BaseModel):
    """What the run does with the project field; `problem` set means nothing is written."""

    field: str
    field_gid: str | None = None
    kind: str | None = None
    problem: str | None = None
    values: dict[str, float | str] = Field(default_factory=dict)  # project gid -> value written
    skipped: list[str] = Field(default_factory=list)  # older sprint projects not scored this run

    def note(self) -> str:
        if self.problem:
            return f"Per-project {self.field!r} field not written: {self.problem}."
        skipped = f"; {len(self.skipped)} older sprint project(s) left as they are" if self.skipped else ""
        return f"Per-project {self.field!r} field set on {len(self.values)} project(s){skipped}."


def field_problem(name: str, cf: CustomField | None, available: list[str]) -> str | None:
    if cf is None:
        shown = ", ".join(repr(n) for n in available) or "none"
        return (
            f"the portfolio has no custom field named {name!r} (its fields: {shown}); add a number "
            f"field {name!r} (0-100) to the portfolio to get a health value on each project"
        )
    if cf.kind == "number":
        return None
    if cf.kind == "enum":
        options = {(o.name or "").casefold() for o in cf.enum_options if o.enabled is not False}
        missing = [o for o in BAND_OPTIONS.values() if o.casefold() not in options]
        if missing:
            return f"enum field {name!r} lacks the option(s) {', '.join(repr(m) for m in missing)}"
        return None
    return (
        f"field {name!r} is a {cf.kind} field; a number (0-100) or an "
        "On track/At risk/Off track enum is needed"
    )


def _value(cf: CustomField, score: float, band: str) -> float | str:
    if cf.kind == "enum":
        return BAND_OPTIONS[band]
    precision = cf.precision or 0
    # Written at the field's precision, so reading it back compares equal (idempotent re-runs).
    return round(score, precision) if precision else int(round(score))


def plan_field(
    name: str,
    cf: CustomField | None,
    available: list[str],
    items: list[Project],
    sprint_gids: list[str],
    read_sprints: list[str],
    trend: HealthTrend,
) -> HealthFieldPlan:
    """Values per project gid. `read_sprints` are the scored sprint projects, oldest first."""
    problem = field_problem(name, cf, available)
    if problem or cf is None:
        return HealthFieldPlan(field=name, problem=problem)
    plan = HealthFieldPlan(field=name, field_gid=cf.gid, kind=cf.kind)

    def band(score: float) -> str:
        return "healthy" if score >= HEALTHY else "watch" if score >= WATCH else "at_risk"

    by_sprint = {gid: score for gid, (_, score) in zip(read_sprints, trend.history, strict=True)}
    for project in items:
        if project.gid in by_sprint:
            score = by_sprint[project.gid]
        elif project.gid in sprint_gids:
            plan.skipped.append(project.gid)
            continue
        else:
            score = trend.current.score
        plan.values[project.gid] = _value(cf, score, band(score))
    return plan


def field_actions(
    plan: HealthFieldPlan, items: list[Project], portfolio_gid: str, read_sprints: list[str]
) -> list[Action]:
    names = {p.gid: p.name or p.gid for p in items}
    actions = []
    for project in items:
        if project.gid not in plan.values:
            continue
        value = plan.values[project.gid]
        if normalize(project.field(plan.field)) == normalize(value):
            continue  # already shows it: a re-run proposes nothing (it read, applied, audited each)
        basis = (
            "the score of the sprints up to this one"
            if project.gid in read_sprints
            else "the team's current score"
        )
        actions.append(
            Action(
                kind=ActionKind.SET_PROJECT_CUSTOM_FIELD,
                target=project.gid,
                params={"field": plan.field, "value": value, "portfolio": portfolio_gid},
                before={plan.field: project.field(plan.field)},
                reason=f"{plan.field} {value} on {names[project.gid]}: {basis}",
            )
        )
    return actions
