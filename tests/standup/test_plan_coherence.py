"""Issue 16, "Living with it for weeks": the stand-up agrees with the sprint's plan, its headline
with its findings, and it nudges each person at most once a day (seeded sandbox, seed 7)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from agents.proposal import Action, ActionKind, Proposal
from agents.standup.inputs import read_standup_inputs
from graphs.runner import resume_run, start_run
from service.runtime import Runtime
from tests.standup.conftest import NOW, standup_ctx
from tools.llm.engine import LanguageEngine
from tools.standup.coherence import PlannedSprint, contradictions, headline_agrees

S = TypeVar("S", bound=BaseModel)

PLANNED_AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # Saturday after Sprint 23 ended
DAY_ONE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday: Sprint 24's first day


class CheerfulModel(LanguageEngine):
    """A model that calls every sprint on track, whatever the numbers say."""

    def write(self, prompt_id: str, variables: dict[str, Any], schema: type[S]) -> tuple[S, str]:
        if prompt_id == "standup_summary":
            answer = {"headline": "All on track, great work!", "summary": "Everything is fine."}
            return schema.model_validate(answer), "cheerful-model"
        return super().write(prompt_id, variables, schema)


def _standup(
    rt: Runtime, project: str, now: datetime, *, language: LanguageEngine | None = None, **args: object
) -> Proposal:
    thread = uuid.uuid4().hex
    ctx = standup_ctx(rt, now)
    out = start_run(
        rt.graph,
        ctx if language is None else replace(ctx, language=language),
        thread,
        {"agent": "standup", "args": {"project": project, **args}, "trigger": "cli"},
    )
    assert out.status == "done", out.report
    record = next(r for r in rt.repo.list_proposals() if r.thread_id == thread)
    return record.proposal


def _plan_and_approve(rt: Runtime) -> tuple[str, Proposal]:
    ws = rt.resolve_workspace()
    ctx = rt.context(
        actor="agent:planner", approver_gid=rt.approver_for(ws, "Product Backlog"), now=lambda: PLANNED_AT
    )
    thread = uuid.uuid4().hex
    out = start_run(rt.graph, ctx, thread, {"agent": "planner", "args": {"project": "Product Backlog"}})
    assert out.interrupt is not None
    done = resume_run(
        rt.graph,
        rt.context(now=lambda: PLANNED_AT),
        thread,
        [{"type": "approve"}],
        "po",
        out.interrupt["digest"],
    )
    assert done.report is not None and done.report["status"] == "applied", done.report
    plan = rt.repo.get_proposal(out.interrupt["proposal_id"])
    assert plan is not None
    return rt.asana.find_project(ws, "Sprint 24").gid, plan.proposal


def _comments(proposal: Proposal) -> list[Action]:
    return [a for a in proposal.actions if a.kind == ActionKind.POST_COMMENT]


def test_the_day_after_an_approved_plan_nothing_it_fitted_is_at_risk(rt: Runtime) -> None:
    """Reproduction: on the first day of a freshly planned sprint 9 of 22 tasks were "at risk"
    (an even split of the committed points) and 9 people were nudged under an "on track" headline."""
    sprint, plan = _plan_and_approve(rt)
    first = _standup(rt, sprint, DAY_ONE)
    ev = first.evidence
    assert ev["tasks_read"] >= 20
    assert ev["at_risk"] == [] and ev["blockers"] == []
    assert _comments(first) == [] and ev["nudged"] == []
    assert ev["status_type"] == "on_track" and headline_agrees(ev["headline"], "on_track")
    # The plan's capacities, as the planner computed them, and the sprint's own commitment.
    tasks = read_standup_inputs(rt.asana, None, sprint, DAY_ONE, ZoneInfo("UTC")).tasks
    for planned in (PlannedSprint.from_plan_evidence(plan.evidence), PlannedSprint.from_tasks(tasks)):
        assert contradictions(planned, first) == []

    # The stand-up read each person's capacity from the plan's status update (no extra call).
    planned = PlannedSprint.from_plan_evidence(plan.evidence)
    workloads = ev["pace"]["workloads"]
    assert {p: w["capacity"] for p, w in workloads.items()} == {p: planned.capacity[p] for p in workloads}
    assert {w["source"] for w in workloads.values()} == {"plan"}

    # Day 3, nobody has started anything: now people are behind the plan's line. Every flag
    # follows from the plan's capacities, and each person hears about it once.
    third = _standup(rt, sprint, DAY_ONE + timedelta(days=2))
    flagged = third.evidence["at_risk"]
    assert flagged and all(r["kinds"] == ["capacity"] for r in flagged)
    assert contradictions(planned, third) == []
    assert third.evidence["status_type"] != "on_track"
    owners = {n["person"] for n in third.evidence["nudged"]}
    assert len(_comments(third)) == len(owners)


def test_the_headline_follows_the_findings(rt: Runtime) -> None:
    """Sprint 23 is ahead of its burndown, but its open tasks are overdue: not "on track"."""
    assert rt.sandbox is not None
    store = rt.sandbox.store
    project = rt.asana.find_project(rt.allowed_workspaces()[0], "Sprint 23").gid
    open_tasks = [g for g in store.project_tasks(project) if not store.tasks[g].completed]
    assert len(open_tasks) >= 2
    for gid in open_tasks:
        store.tasks[gid].due_on = "2026-11-17"
    st = _standup(rt, project, NOW)
    ev = st.evidence
    assert ev["burndown"]["status_type"] == "on_track"
    assert {r["task_gid"] for r in ev["at_risk"]} >= set(open_tasks)
    assert ev["flagged_share"] > 0.1 and ev["status_type"] in {"at_risk", "off_track"}
    assert headline_agrees(ev["headline"], ev["status_type"]) and "on track" not in ev["headline"]
    update = next(a for a in st.actions if a.kind == ActionKind.POST_STATUS_UPDATE)
    assert update.params["status_type"] == ev["status_type"]
    assert contradictions(PlannedSprint(), st) == []
    # A model's headline that claims another status is replaced by the computed one.
    worded = _standup(rt, project, NOW + timedelta(days=1), language=CheerfulModel())
    assert worded.evidence["status_type"] != "on_track"
    assert headline_agrees(worded.evidence["headline"], worded.evidence["status_type"])
    assert "on track" not in worded.summary_markdown.split("\n")[2]


def test_one_batched_nudge_per_person_and_none_again_that_day(rt: Runtime) -> None:
    assert rt.sandbox is not None
    store = rt.sandbox.store
    ws = rt.allowed_workspaces()[0]
    project = rt.asana.find_project(ws, "Sprint 23").gid
    open_tasks = [g for g in store.project_tasks(project) if not store.tasks[g].completed]
    owner = store.tasks[open_tasks[0]].assignee
    assert owner is not None
    for i, gid in enumerate(open_tasks[:2]):  # two overdue tasks of one person
        store.tasks[gid].assignee = owner
        store.tasks[gid].due_on = f"2026-11-1{7 - i}"
    st = _standup(rt, project, NOW)
    comments = _comments(st)
    mine = [a for a in comments if (a.facts or {}).get("nudge") == owner]
    assert len(mine) == 1, "one message for all of the person's flagged tasks"
    nudge = mine[0]
    assert nudge.facts == {"nudge": owner, "day": "2026-11-19"}
    assert nudge.target == open_tasks[1]  # the longest overdue
    text = nudge.params["text"]
    assert all(f"/{gid}" in text for gid in open_tasks[:2])
    assert len(comments) == len({(a.facts or {}).get("nudge") for a in comments})
    posted = [s for s in store.stories_for(open_tasks[1]) if s.type == "comment" and "stand-up" in s.text]
    assert len(posted) == 1 and [s for s in store.stories_for(open_tasks[0]) if s.type == "comment"] == []

    # Later that day, another active sprint flags the same person: no second nudge today.
    other = store.add_project(ws, "Sprint 99", start_on="2026-11-16", due_on="2026-11-27")
    extra = store.add_task(ws, "Hotfix rollout", assignee=owner, due_on="2026-11-18", projects=[other.gid])
    again = _standup(rt, other.gid, NOW + timedelta(hours=2))
    assert extra.gid in {r["task_gid"] for r in again.evidence["at_risk"]}
    assert [s for s in store.stories_for(extra.gid) if s.type == "comment"] == []
    # The next day the person may be nudged again.
    tomorrow = _standup(rt, other.gid, NOW + timedelta(days=1))
    assert [a.facts for a in _comments(tomorrow)] == [{"nudge": owner, "day": "2026-11-20"}]
    assert len([s for s in store.stories_for(extra.gid) if s.type == "comment"]) == 1


def test_no_nudges_still_means_none(rt: Runtime) -> None:
    assert rt.sandbox is not None
    store = rt.sandbox.store
    project = rt.asana.find_project(rt.allowed_workspaces()[0], "Sprint 23").gid
    for gid in store.project_tasks(project):
        store.tasks[gid].due_on = date(2026, 11, 17).isoformat()
    st = _standup(rt, project, NOW, nudge=False)
    assert st.evidence["at_risk"] and _comments(st) == [] and st.evidence["nudged"] == []
