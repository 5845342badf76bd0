"""In-memory fakes of the graph's ports and a small fake Asana for the graph unit tests.

FakeAsana keeps just enough Asana state (tasks, projects, sections, stories, custom fields) for
the executor, the scope checks, the stale checks and the crash probes; it counts writes and can
simulate a process crash right before or right after the n-th write.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from agents.proposal import Decision, Proposal
from evals.replay.ports import ReplayAudit, ReplayJournal
from graphs.ports import AuditRecord, LedgerEntry, LedgerStatus, replaces
from tools.asana.errors import BadRequest, NotFound
from tools.asana.field_map import FieldMap
from tools.asana.models import (
    Attachment,
    CustomField,
    CustomFieldSetting,
    CustomFieldValue,
    EnumOption,
    Membership,
    Portfolio,
    Project,
    Ref,
    Section,
    StatusUpdate,
    Story,
    Task,
)
from tools.asana.richtext import html_to_text

WORKSPACE = "1000"
OTHER_WORKSPACE = "9000"
PROJECT = "2000"
OTHER_PROJECT = "9100"  # exists, but outside the allowed scope
APPROVER = "3000"


class SimulatedCrash(Exception):
    """Stands in for the process dying (not an AsanaError, so nothing catches it)."""


class FakeAsana:
    def __init__(self) -> None:
        self._ids = itertools.count(50_000)
        self.projects_by_gid: dict[str, Project] = {}
        self.project_workspace: dict[str, str] = {}
        self.sections_by_project: dict[str, list[Section]] = {}
        self.tasks: dict[str, Task] = {}
        self.story_log: dict[str, list[Story]] = {}
        self.status_log: dict[str, list[StatusUpdate]] = {}
        self.attachment_log: dict[str, list[Attachment]] = {}
        self.settings: dict[str, list[CustomFieldSetting]] = {}
        self.writes: list[tuple[str, tuple[Any, ...]]] = []
        self.reads = 0
        self.crash_before_write: int | None = None  # 1-based index of the write that never happens
        self.crash_after_write: int | None = None  # 1-based index of the write after which we "die"
        self.fail_on: dict[str, Exception] = {}  # method -> error raised instead of writing
        self.portfolios: dict[str, Portfolio] = {}
        self.portfolio_item_gids: dict[str, list[str]] = {}
        self.project_values: dict[str, dict[str, Any]] = {}  # project gid -> field gid -> raw value

    # --- seeding ------------------------------------------------------------------------------

    def gid(self) -> str:
        return str(next(self._ids))

    def add_project(self, gid: str, name: str, workspace: str = WORKSPACE) -> None:
        self.projects_by_gid[gid] = Project(gid=gid, name=name, notes="", workspace=Ref(gid=workspace))
        self.project_workspace[gid] = workspace
        self.sections_by_project[gid] = []
        self.settings[gid] = [
            CustomFieldSetting(gid=self.gid(), project=Ref(gid=gid), custom_field=cf) for cf in _FIELDS
        ]

    def add_portfolio(self, gid: str, name: str, items: list[str], workspace: str = WORKSPACE) -> None:
        """A portfolio holding `items`, with the portfolio fields Health (number) and Phase (enum)."""
        self.portfolios[gid] = Portfolio(gid=gid, name=name, workspace=Ref(gid=workspace))
        self.portfolio_item_gids[gid] = list(items)

    def add_task(self, gid: str, name: str, project: str = PROJECT, **fields: Any) -> Task:
        values = fields.pop("custom", {})
        task = Task(
            gid=gid,
            name=name,
            notes="",
            completed=False,
            memberships=[Membership(project=Ref(gid=project))],
            **fields,
        )
        task.custom_fields = [_value(cf, values.get(cf.name)) for cf in _FIELDS]
        self.tasks[gid] = task
        return task

    # --- write bookkeeping --------------------------------------------------------------------

    def _write(self, method: str, *args: Any) -> None:
        if method in self.fail_on:
            raise self.fail_on[method]
        n = len(self.writes) + 1
        if self.crash_before_write == n:
            self.crash_before_write = None
            raise SimulatedCrash(f"crash before write {n} ({method})")
        self.writes.append((method, args))

    def _after(self) -> None:
        if self.crash_after_write == len(self.writes):
            self.crash_after_write = None
            raise SimulatedCrash(f"crash after write {len(self.writes)}")

    def writes_of(self, method: str) -> list[tuple[Any, ...]]:
        return [args for m, args in self.writes if m == method]

    # --- reads --------------------------------------------------------------------------------

    def task(self, gid: str) -> Task:
        self.reads += 1
        if gid not in self.tasks:
            raise NotFound(404, "task not found", "GET", f"/tasks/{gid}")
        return self.tasks[gid].model_copy(deep=True)

    def field_map(self, project_gid: str) -> FieldMap:
        return FieldMap(project_gid, self.settings[project_gid])

    def custom_field_settings(self, project_gid: str) -> list[CustomFieldSetting]:
        self.reads += 1
        return list(self.settings[project_gid])

    def projects(self, workspace_gid: str) -> list[Project]:
        return [p for g, p in self.projects_by_gid.items() if self.project_workspace[g] == workspace_gid]

    def sections(self, project_gid: str) -> list[Section]:
        return list(self.sections_by_project.get(project_gid, []))

    def project_tasks(self, project_gid: str, view: object = None) -> list[Task]:
        return [
            t
            for t in self.tasks.values()
            if any(m.project and m.project.gid == project_gid for m in t.memberships)
        ]

    def subtasks(self, task_gid: str) -> list[Task]:
        return [t for t in self.tasks.values() if t.parent and t.parent.gid == task_gid]

    def stories(self, task_gid: str) -> list[Story]:
        return list(self.story_log.get(task_gid, []))

    def status_updates(self, parent_gid: str) -> list[StatusUpdate]:
        return list(self.status_log.get(parent_gid, []))

    def attachments(self, parent_gid: str) -> list[Attachment]:
        return list(self.attachment_log.get(parent_gid, []))

    def portfolio(self, gid: str) -> Portfolio:
        if gid not in self.portfolios:
            raise NotFound(404, "portfolio not found", "GET", f"/portfolios/{gid}")
        return self.portfolios[gid]

    def portfolio_items(self, portfolio_gid: str) -> list[Project]:
        self.portfolio(portfolio_gid)
        return [self.projects_by_gid[g] for g in self.portfolio_item_gids[portfolio_gid]]

    def portfolio_field_map(self, portfolio_gid: str) -> FieldMap:
        self.portfolio(portfolio_gid)
        settings = [
            CustomFieldSetting(gid=f"s{cf.gid}", parent=Ref(gid=portfolio_gid), custom_field=cf)
            for cf in PORTFOLIO_FIELDS
        ]
        return FieldMap(portfolio_gid, settings)

    def project_with_fields(self, gid: str) -> Project:
        self.reads += 1
        project = self.projects_by_gid[gid].model_copy(deep=True)
        raw = self.project_values.get(gid, {})
        project.custom_fields = [_value(cf, raw.get(cf.gid)) for cf in PORTFOLIO_FIELDS]
        return project

    def set_project_value(self, project_gid: str, name: str, value: Any) -> None:
        """Seed (or, in a test, change behind the agent's back) a project's own field value."""
        cf = next(f for f in PORTFOLIO_FIELDS if f.name == name)
        if cf.kind == "enum":
            value = next(o.gid for o in cf.enum_options if value in (o.gid, o.name))
        self.project_values.setdefault(project_gid, {})[cf.gid] = value

    # --- writes -------------------------------------------------------------------------------

    def create_project(
        self,
        workspace_gid: str,
        name: str,
        *,
        team_gid: str | None = None,
        notes: str = "",
        start_on: date | None = None,
        due_on: date | None = None,
        owner_gid: str | None = None,
    ) -> Project:
        self._write("create_project", workspace_gid, name)
        gid = self.gid()
        self.add_project(gid, name, workspace_gid)
        self.projects_by_gid[gid].notes = notes
        self._after()
        return self.projects_by_gid[gid]

    def create_section(self, project_gid: str, name: str) -> Section:
        self._write("create_section", project_gid, name)
        section = Section(gid=self.gid(), name=name, project=Ref(gid=project_gid))
        self.sections_by_project.setdefault(project_gid, []).append(section)
        self._after()
        return section

    def update_section(self, section_gid: str, name: str) -> Section:
        self._write("update_section", section_gid, name)
        section = next(s for secs in self.sections_by_project.values() for s in secs if s.gid == section_gid)
        section.name = name
        self._after()
        return section

    def add_custom_field_to_project(
        self, project_gid: str, custom_field_gid: str, *, important: bool = True
    ) -> None:
        self._write("add_custom_field_to_project", project_gid, custom_field_gid)
        if any(s.custom_field.gid == custom_field_gid for s in self.settings[project_gid]):
            raise BadRequest(400, "custom_field: This custom field is already on the project")
        cf = next(
            s.custom_field
            for ss in self.settings.values()
            for s in ss
            if s.custom_field.gid == custom_field_gid
        )
        self.settings[project_gid].append(
            CustomFieldSetting(
                gid=self.gid(), project=Ref(gid=project_gid), custom_field=cf, is_important=important
            )
        )
        self._after()

    def add_task_to_project(self, task_gid: str, project_gid: str, section_gid: str | None = None) -> None:
        self._write("add_task_to_project", task_gid, project_gid, section_gid)
        task = self.tasks[task_gid]
        task.memberships = [m for m in task.memberships if not (m.project and m.project.gid == project_gid)]
        section = Ref(gid=section_gid) if section_gid else None
        task.memberships.append(Membership(project=Ref(gid=project_gid), section=section))
        self._after()

    def remove_task_from_project(self, task_gid: str, project_gid: str) -> None:
        self._write("remove_task_from_project", task_gid, project_gid)
        task = self.tasks[task_gid]
        task.memberships = [m for m in task.memberships if not (m.project and m.project.gid == project_gid)]
        task.projects = [p for p in task.projects if p.gid != project_gid]
        self._after()

    def add_task_to_section(self, section_gid: str, task_gid: str) -> None:
        self._write("add_task_to_section", section_gid, task_gid)
        project = next(
            p for p, secs in self.sections_by_project.items() if any(s.gid == section_gid for s in secs)
        )
        task = self.tasks[task_gid]
        task.memberships = [m for m in task.memberships if not (m.project and m.project.gid == project)]
        task.memberships.append(Membership(project=Ref(gid=project), section=Ref(gid=section_gid)))
        self._after()

    def create_task(
        self,
        *,
        name: str,
        workspace_gid: str | None = None,
        projects: Iterable[str] | None = None,
        notes: str = "",
        assignee: str | None = None,
        due_on: date | None = None,
        due_at: datetime | None = None,
        resource_subtype: str | None = None,
        custom_fields: Mapping[str, Any] | None = None,
        parent_gid: str | None = None,
    ) -> Task:
        self._write("create_task", name)
        gid = self.gid()
        task = Task(
            gid=gid,
            name=name,
            notes=notes,
            completed=False,
            assignee=Ref(gid=assignee) if assignee else None,
            due_on=due_on,
            due_at=due_at,
            resource_subtype=resource_subtype or "default_task",
            approval_status="pending" if resource_subtype == "approval" else None,
            memberships=[Membership(project=Ref(gid=p)) for p in projects or []],
            parent=Ref(gid=parent_gid) if parent_gid else None,
        )
        task.custom_fields = [_value(cf, None) for cf in _FIELDS]
        for cf_gid, encoded in (custom_fields or {}).items():
            _set_value(task, cf_gid, encoded)
        self.tasks[gid] = task
        self._after()
        return task

    def update_task(self, task_gid: str, fields: Mapping[str, Any]) -> Task:
        self._write("update_task", task_gid, dict(fields))
        task = self.tasks[task_gid]
        for key, value in fields.items():
            if key == "custom_fields":
                for cf_gid, encoded in value.items():
                    _set_value(task, cf_gid, encoded)
            elif key == "assignee":
                task.assignee = Ref(gid=value) if value else None
            else:
                setattr(task, key, value)
        self._after()
        return task

    def update_project_custom_fields(self, project_gid: str, custom_fields: Mapping[str, Any]) -> Project:
        self._write("update_project_custom_fields", project_gid, dict(custom_fields))
        self.project_values.setdefault(project_gid, {}).update(custom_fields)
        self._after()
        return self.project_with_fields(project_gid)

    def add_dependencies(self, task_gid: str, gids: Iterable[str]) -> None:
        gids = list(gids)
        self._write("add_dependencies", task_gid, gids)
        task = self.tasks[task_gid]
        have = set(task.dependency_gids)
        task.dependencies += [Ref(gid=g) for g in gids if g not in have]
        self._after()

    def remove_dependencies(self, task_gid: str, gids: Iterable[str]) -> None:
        gids = list(gids)
        self._write("remove_dependencies", task_gid, gids)
        task = self.tasks[task_gid]
        task.dependencies = [d for d in task.dependencies if d.gid not in gids]
        self._after()

    def add_comment(self, task_gid: str, text: str | None = None, *, html_text: str | None = None) -> Story:
        self._write("add_comment", task_gid, text if html_text is None else html_text)
        if task_gid not in self.tasks:
            raise NotFound(404, "task not found", "POST", f"/tasks/{task_gid}/stories")
        plain = text if html_text is None else html_to_text(html_text)  # what Asana returns as text
        story = Story(
            gid=self.gid(), type="comment", text=plain, html_text=html_text, target=Ref(gid=task_gid)
        )
        self.story_log.setdefault(task_gid, []).append(story)
        self._after()
        return story

    def create_status_update(
        self, parent_gid: str, *, title: str, text: str, status_type: str, html_text: str | None = None
    ) -> StatusUpdate:
        self._write("create_status_update", parent_gid, title)
        update = StatusUpdate(
            gid=self.gid(),
            title=title,
            text=text if html_text is None else html_to_text(html_text),
            html_text=html_text,
            status_type=status_type,
            parent=Ref(gid=parent_gid),
        )
        self.status_log.setdefault(parent_gid, []).append(update)
        self._after()
        return update

    def upload_attachment(self, parent_gid: str, filename: str, data: bytes, content_type: str) -> Attachment:
        self._write("upload_attachment", parent_gid, filename)
        attachment = Attachment(gid=self.gid(), name=filename, size=len(data), parent=Ref(gid=parent_gid))
        self.attachment_log.setdefault(parent_gid, []).append(attachment)
        self._after()
        return attachment

    def delete_attachment(self, attachment_gid: str) -> None:
        self._write("delete_attachment", attachment_gid)
        for files in self.attachment_log.values():
            files[:] = [a for a in files if a.gid != attachment_gid]
        self._after()


_PRIORITY_OPTIONS = [EnumOption(gid="7001", name="Low"), EnumOption(gid="7002", name="High")]
_FIELDS = [
    CustomField(gid="6001", name="AI Priority Score", resource_subtype="number", precision=0),
    CustomField(gid="6002", name="Story Points", resource_subtype="number", precision=0),
    CustomField(gid="6003", name="Priority", resource_subtype="enum", enum_options=_PRIORITY_OPTIONS),
    CustomField(gid="6004", name="AI Suggestion", resource_subtype="text"),
]


_PHASE_OPTIONS = [EnumOption(gid="7101", name="Discovery"), EnumOption(gid="7102", name="Delivery")]
PORTFOLIO_FIELDS = [
    CustomField(gid="6101", name="Health", resource_subtype="number", precision=1),
    CustomField(gid="6102", name="Phase", resource_subtype="enum", enum_options=_PHASE_OPTIONS),
]


def _value(cf: CustomField, value: Any) -> CustomFieldValue:
    entry = CustomFieldValue(**cf.model_dump())
    if value is not None:
        _assign(entry, cf, value)
    return entry


def _assign(entry: CustomFieldValue, cf: CustomField, value: Any) -> None:
    if cf.kind == "number":
        entry.number_value = value
    elif cf.kind == "enum":
        entry.enum_value = next((o for o in cf.enum_options if value in (o.gid, o.name)), None)
    else:
        entry.text_value = value


def _set_value(task: Task, cf_gid: str, encoded: Any) -> None:
    for entry in task.custom_fields:
        if entry.gid == cf_gid:
            cf = next(f for f in _FIELDS if f.gid == cf_gid)
            _assign(entry, cf, encoded)


# --- ports ------------------------------------------------------------------------------------


class MemoryAudit(ReplayAudit):
    """The replay's in-memory hash-chained audit log, plus a filter for assertions."""

    def events(self, event: str | None = None) -> list[AuditRecord]:
        return [r for r in self.records if event is None or r.event == event]


class MemoryJournal(ReplayJournal):
    """The replay's in-memory ledger, plus a filter for assertions."""

    def by_status(self, status: LedgerStatus) -> list[LedgerEntry]:
        return [e for e in self.entries.values() if e.status == status]


class MemoryRepo:
    def __init__(self) -> None:
        self.runs: dict[str, dict[str, Any]] = {}
        self.proposals: dict[str, dict[str, Any]] = {}
        self.decisions: dict[str, tuple[list[Decision], str]] = {}

    def record_run(self, thread_id: str, agent: str, trigger: str, request: dict[str, Any]) -> None:
        self.runs[thread_id] = {
            "agent": agent,
            "trigger": trigger,
            "request": request,
            "status": "started",
            "detail": None,
        }

    def set_run_status(self, thread_id: str, status: str, detail: str | None = None) -> None:
        self.runs[thread_id].update(status=status, detail=detail)

    def save_proposal(self, thread_id: str, proposal: Proposal, status: str) -> None:
        self.proposals[proposal.id] = {
            "thread_id": thread_id,
            "proposal": proposal,
            "status": status,
            "approval_task_gid": None,
        }

    def set_proposal_status(
        self, proposal_id: str, status: str, approval_task_gid: str | None = None
    ) -> None:
        self.proposals[proposal_id]["status"] = status
        if approval_task_gid is not None:
            self.proposals[proposal_id]["approval_task_gid"] = approval_task_gid

    def save_decisions(self, proposal_id: str, decisions: list[Decision], decided_by: str) -> None:
        self.decisions[proposal_id] = (list(decisions), decided_by)

    def waiting_about(self, agent: str, workspace_gid: str, subject: str) -> list[Proposal]:
        return [
            r["proposal"]
            for r in self.proposals.values()
            if r["status"] == "pending"
            and (r["proposal"].agent, r["proposal"].scope.workspace_gid, r["proposal"].subject)
            == (agent, workspace_gid, subject)
        ]

    def newer_about(self, proposal: Proposal) -> list[tuple[str, str]]:
        key = (proposal.agent, proposal.scope.workspace_gid, proposal.subject)
        return [
            (pid, r["status"])
            for pid, r in self.proposals.items()
            if replaces(r["status"], pid in self.decisions)
            and (r["proposal"].agent, r["proposal"].scope.workspace_gid, r["proposal"].subject) == key
            and r["proposal"].created_at > proposal.created_at
        ]
