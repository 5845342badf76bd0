"""A small sandbox workspace for QA tests: one backlog with review sections and fields, over HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from agents.qa import qa_specialist
from graphs.context import RunContext
from graphs.registry import SpecialistRegistry
from graphs.supervisor import build_supervisor_graph
from sandbox.server import SandboxServer
from sandbox.store import Store
from tests.graphs.fakes import MemoryAudit, MemoryJournal, MemoryRepo
from tools.asana.client import AsanaClient
from tools.llm.engine import LanguageEngine

TOKEN = "tok-qa-bot"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECTIONS = ("Backlog", "In Progress", "Ready for Review", "Done")
STATUSES = ("Not Started", "In Progress", "Blocked", "Ready for Review", "Done")

GOOD_NOTES = """Let users reset a forgotten password.

Acceptance criteria:
- Reset email is sent within one minute
- Reset link expires after 24 hours
- Password strength rules are enforced on the new password
"""


@dataclass
class QaWorld:
    store: Store
    server: SandboxServer
    asana: AsanaClient
    ws: str
    project: str
    bot: str
    dev: str
    approver: str
    sections: dict[str, str]
    fields: dict[str, str]
    audit: MemoryAudit = field(default_factory=MemoryAudit)
    repo: MemoryRepo = field(default_factory=MemoryRepo)
    journal: MemoryJournal | None = None
    graph: Any = None
    registry: SpecialistRegistry | None = None

    def ctx(self, **overrides: Any) -> RunContext:
        assert self.journal is not None and self.registry is not None
        kw: dict[str, Any] = dict(
            asana=self.asana,
            writes=self.asana,
            language=LanguageEngine(),
            journal=self.journal,
            repo=self.repo,
            audit=self.audit,
            registry=self.registry,
            allowed_workspace_gids={self.ws},
            allowed_project_gids={self.project},
            approver_gid=self.approver,
            now=lambda: NOW,
        )
        kw.update(overrides)
        return RunContext(**kw)

    def task(
        self,
        name: str,
        notes: str = GOOD_NOTES,
        *,
        section: str = "Ready for Review",
        status: str | None = "Ready for Review",
        points: int | None = 3,
        priority: str | None = "High",
        subtasks: tuple[tuple[str, bool], ...] = (),
        comments: tuple[str, ...] = (),
        bot_comments: tuple[str, ...] = (),
        attachments: tuple[str, ...] = (),
    ) -> str:
        s = self.store
        custom: dict[str, Any] = {}
        if status:
            custom[self.fields["Status"]] = status
        if points is not None:
            custom[self.fields["Story Points"]] = points
        if priority:
            custom[self.fields["Priority"]] = priority
        gid = s.add_task(
            self.ws,
            name,
            notes=notes,
            memberships=[(self.project, self.sections[section])],
            custom_fields=custom,
            assignee=self.dev,
        ).gid
        for sub, done in subtasks:
            s.add_task(self.ws, sub, parent=gid, completed=done, completed_at=NOW if done else None)
        for text in comments:
            s.add_story(gid, text=text, created_by=self.dev)
        for text in bot_comments:
            s.add_story(gid, text=text, created_by=self.bot)
        for att in attachments:
            s.add_attachment(gid, att, b"data", content_type="application/octet-stream")
        return gid

    def section_of(self, task_gid: str) -> str | None:
        sec = self.store.section_of(self.store.tasks[task_gid], self.project)
        return next((n for n, g in self.sections.items() if g == sec), sec)

    def status_of(self, task_gid: str) -> str | None:
        return self.asana.task(task_gid).display("Status")

    def comments_on(self, task_gid: str) -> list[str]:
        return [st.text or "" for st in self.asana.stories(task_gid) if st.is_comment]


def build_store() -> tuple[Store, dict[str, Any]]:
    s = Store()
    ws = s.add_workspace("Acme Product").gid
    bot = s.add_user("sprintpilot", "bot@acme.test", workspaces=[ws]).gid
    dev = s.add_user("Dana Dev", "dana@acme.test", workspaces=[ws]).gid
    po = s.add_user("Ana PO", "ana@acme.test", workspaces=[ws]).gid
    s.add_token(TOKEN, bot)
    project = s.add_project(ws, "Product Backlog", owner=po).gid
    sections = {name: s.add_section(project, name).gid for name in SECTIONS}
    fields = {
        "Status": s.add_custom_field(ws, "Status", "enum", enum_options=STATUSES).gid,
        "Story Points": s.add_custom_field(ws, "Story Points", "number", precision=0).gid,
        "Priority": s.add_custom_field(ws, "Priority", "enum", enum_options=("Critical", "High", "Low")).gid,
        "Sprint": s.add_custom_field(ws, "Sprint", "text").gid,
    }
    for gid in fields.values():
        s.add_field_setting(project, gid)
    return s, {
        "ws": ws,
        "project": project,
        "bot": bot,
        "dev": dev,
        "approver": po,
        "sections": sections,
        "fields": fields,
    }


def attach_graph(w: QaWorld, **qa_kw: Any) -> None:
    w.registry = SpecialistRegistry([qa_specialist(**qa_kw)])
    w.journal = MemoryJournal(w.audit)
    w.graph = build_supervisor_graph(w.registry).compile(checkpointer=InMemorySaver())
