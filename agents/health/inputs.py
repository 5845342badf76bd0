"""Read a portfolio's sprint projects and reduce each to SprintFacts (points, carry-over, blockers, mood).

Cost: the portfolio lookup, its items (with their custom field values) and field settings, one
task list per sprint project and the stories of those tasks (Status changes give the Blocked
periods; comments give the sentiment).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict

from agents.planner.inputs import past_sprint_projects, sprint_record
from tools.asana.field_names import STATUS
from tools.asana.models import CustomField, Project, Story, Task
from tools.health.score import SprintFacts
from tools.names import did_you_mean
from tools.sentiment import LexiconSentiment
from tools.sentiment.engine import EngineChoice, engine_choice

MAX_SPRINTS = 8
_POLARITY = {"positive": 1.0, "negative": -1.0}


class PortfolioInputs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    workspace_gid: str
    portfolio_gid: str
    portfolio_name: str
    projects: list[Project]  # the portfolio's items, with their own custom field values
    sprints: list[tuple[Project, SprintFacts]]  # the sprints read, oldest first
    sprint_gids: list[str]  # every sprint project in the portfolio (read or not)
    fields: list[CustomField]  # the portfolio's fields (each of its projects holds a value)
    sentiment_engine: str = "lexicon"  # the engine that scored the comments
    sentiment_warning: str | None = None  # why a configured sentiment model was not used


def find_portfolio(asana: Any, workspace_gid: str, ref: str) -> tuple[str, str]:
    if ref.isdigit():
        p = asana.portfolio(ref)
        return p.gid, p.name or ref
    owners = ["me", *(u.gid for u in asana.users(workspace_gid))]
    seen: list[str] = []
    for owner in owners:
        for p in asana.portfolios(workspace_gid, owner):
            if (p.name or "").strip().lower() == ref.strip().lower():
                return p.gid, p.name or ref
            seen.append(p.name or "")
    # Close names, as project look-ups give ("Mobile" → "Mobile Portfolio").
    raise ValueError(f"no portfolio named {ref!r} is visible in this workspace{did_you_mean(ref, seen)}")


def _status_of(story: Story) -> str | None:
    if story.custom_field is None or (story.custom_field.name or "") != STATUS:
        return None
    return story.new_enum_value.name if story.new_enum_value else ""


def sprint_facts(
    project: Project, tasks: list[Task], stories: dict[str, list[Story]], mood: LexiconSentiment
) -> SprintFacts:
    record = sprint_record(project, tasks)
    end = datetime.combine(project.due_on, time.max) if project.due_on else None
    blocked_items = 0
    days: list[float] = []
    comments: list[str] = []
    for t in tasks:
        since: datetime | None = None
        was_blocked = (t.field(STATUS) or "") == "Blocked"
        for s in sorted(stories.get(t.gid, []), key=lambda s: s.created_at or datetime.min):
            if s.is_comment and s.text:
                comments.append(s.text)
                continue
            status = _status_of(s)
            if status is None or s.created_at is None:
                continue
            at = s.created_at.replace(tzinfo=None)
            if status == "Blocked" and since is None:
                since, was_blocked = at, True
            elif status != "Blocked" and since is not None:
                days.append((at - since).total_seconds() / 86400)
                since = None
        if since is not None and end is not None:
            days.append(max(0.0, (end - since).total_seconds() / 86400))
        blocked_items += was_blocked
    # All of the sprint's comments in one call: a trained engine scores a batch in one pass.
    moods = [_POLARITY.get(a.label, 0.0) for a in mood.analyse_many(comments)]
    return SprintFacts(
        name=project.name or project.gid,
        committed_points=record.committed_points,
        completed_points=record.completed_points,
        items=len(tasks),
        carried_items=record.carried_over_items,
        blocked_items=blocked_items,
        blocked_days=[round(d, 2) for d in days],
        sentiment=moods,
    )


def read_portfolio(
    asana: Any, workspace_gid: str, portfolio_ref: str, sentiment: EngineChoice | None = None
) -> PortfolioInputs:
    """`sentiment`: the comment sentiment engine (default `engine_choice()`: the trained engine
    SPRINTPILOT_SENTIMENT_MODEL names when it loads, else the lexicon)."""
    gid, name = find_portfolio(asana, workspace_gid, portfolio_ref)
    projects = list(asana.portfolio_items_with_fields(gid))
    fields = list(asana.portfolio_field_map(gid).fields)
    choice = sentiment or engine_choice()
    mood = choice.engine
    sprints = []
    all_sprints = past_sprint_projects(projects, exclude_gid="")
    for _, project in all_sprints[-MAX_SPRINTS:]:
        full = asana.project(project.gid)  # start_on/due_on are not in the compact item
        tasks = [
            t for t in asana.project_tasks(full.gid) if not t.parent and t.resource_subtype != "approval"
        ]
        stories = asana.stories_many([t.gid for t in tasks])
        sprints.append((full, sprint_facts(full, tasks, stories, mood)))
    return PortfolioInputs(
        workspace_gid=workspace_gid,
        portfolio_gid=gid,
        portfolio_name=name,
        projects=projects,
        sprints=sprints,
        sprint_gids=[p.gid for _, p in all_sprints],
        fields=fields,
        sentiment_engine=choice.name,
        sentiment_warning=choice.warning,
    )
