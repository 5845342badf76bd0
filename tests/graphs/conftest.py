from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel, ConfigDict

from agents.proposal import Action, ActionKind, Proposal, Scope
from graphs.context import RunContext
from graphs.registry import Specialist, SpecialistRegistry
from graphs.supervisor import build_supervisor_graph
from tests.graphs.fakes import (
    APPROVER,
    OTHER_PROJECT,
    PROJECT,
    WORKSPACE,
    FakeAsana,
    MemoryAudit,
    MemoryJournal,
    MemoryRepo,
)
from tools.llm.engine import LanguageEngine


class FakeArgs(BaseModel):
    """Args of the test-double specialists: anything goes."""

    model_config = ConfigDict(extra="allow")


NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
T1, T2, T_OUT = "4001", "4002", "4900"


def sprint_actions() -> list[Action]:
    """A planner-like proposal: approval-class writes with refs, auto writes, a deferred auto one."""
    return [
        Action(
            kind=ActionKind.CREATE_PROJECT,
            params={"name": "Sprint 24"},
            ref="sprint",
            reason="new sprint project",
        ),
        Action(
            kind=ActionKind.CREATE_SECTION,
            target="ref:sprint",
            params={"name": "To Do"},
            ref="todo",
            reason="backlog column",
        ),
        Action(
            kind=ActionKind.ADD_TO_PROJECT,
            target=T1,
            params={"project": "ref:sprint", "section": "ref:todo"},
            reason="selected for the sprint",
        ),
        Action(
            kind=ActionKind.UPDATE_TASK,
            target=T1,
            params={"due_on": "2026-12-10"},
            before={"due_on": "2026-12-01"},
            after={"due_on": "2026-12-10"},
            reason="fits the sprint end",
        ),
        Action(
            kind=ActionKind.SET_CUSTOM_FIELD,
            target=T2,
            params={"field": "AI Priority Score", "value": 42},
            reason="score from BV/effort",
        ),
        Action(
            kind=ActionKind.POST_COMMENT,
            target=T1,
            params={"text": "Planned into Sprint 24"},
            reason="tell the assignee",
        ),
        Action(
            kind=ActionKind.CREATE_TASK,
            params={"name": "Sprint 24 kickoff", "projects": ["ref:sprint"]},
            ref="kickoff",
            reason="kickoff meeting",
        ),
        Action(
            kind=ActionKind.POST_COMMENT,
            target="ref:kickoff",
            params={"text": "Agenda: goals, risks"},
            reason="kickoff agenda",
        ),
    ]


def make_proposal(actions: list[Action], **kw: Any) -> Proposal:
    return Proposal(
        agent=kw.pop("agent", "fake_planner"),
        scope=Scope(workspace_gid=WORKSPACE, project_gids=[PROJECT]),
        title=kw.pop("title", "Sprint 24 plan"),
        summary_markdown="Scope: 2 tasks, 8 points.",
        actions=actions,
        **kw,
    )


@dataclass
class World:
    asana: FakeAsana
    audit: MemoryAudit
    journal: MemoryJournal
    repo: MemoryRepo
    registry: SpecialistRegistry
    graph: Any
    saver: InMemorySaver
    actions_holder: dict[str, Callable[[], list[Action]]]

    def set_actions(self, fn: Callable[[], list[Action]]) -> None:
        """What the fake specialist proposes from now on."""
        self.actions_holder["actions"] = fn

    def ctx(self, **overrides: Any) -> RunContext:
        kw: dict[str, Any] = dict(
            asana=self.asana,
            writes=self.asana,
            language=LanguageEngine(),
            journal=self.journal,
            repo=self.repo,
            audit=self.audit,
            registry=self.registry,
            allowed_workspace_gids={WORKSPACE},
            allowed_project_gids={PROJECT},
            approver_gid=APPROVER,
            now=lambda: NOW,
        )
        kw.update(overrides)
        return RunContext(**kw)

    def recompile(self) -> Any:
        """A new graph object on the same checkpoint store: what a new process would build."""
        self.graph = build_supervisor_graph(self.registry).compile(checkpointer=self.saver)
        return self.graph


@pytest.fixture
def world() -> World:
    asana = FakeAsana()
    asana.add_project(PROJECT, "Team backlog")
    asana.add_project(OTHER_PROJECT, "Another team")
    asana.add_task(T1, "Login page", due_on="2026-12-01")
    asana.add_task(T2, "Password reset", custom={"AI Priority Score": 10, "Priority": "Low"})
    asana.add_task(T_OUT, "Other team's task", project=OTHER_PROJECT)
    audit = MemoryAudit()
    holder: dict[str, Callable[[], list[Action]]] = {"actions": sprint_actions}

    def run(args: dict[str, Any], ctx: RunContext) -> Proposal:
        if args.get("explode"):
            raise RuntimeError("backlog could not be read")
        return make_proposal(holder["actions"]())

    registry = SpecialistRegistry(
        [
            Specialist("fake_planner", "plans a sprint (test double)", run, FakeArgs, verbs=("plan",)),
        ]
    )
    saver = InMemorySaver()
    w = World(
        asana=asana,
        audit=audit,
        journal=MemoryJournal(audit),
        repo=MemoryRepo(),
        registry=registry,
        graph=build_supervisor_graph(registry).compile(checkpointer=saver),
        saver=saver,
        actions_holder=holder,
    )
    return w


@pytest.fixture
def thread_id() -> str:
    return uuid.uuid4().hex
