"""Crash-window probes: did an earlier attempt's Asana write already happen?

An action whose ledger entry is still PENDING on a later attempt may have been written just before
the process died (Asana has no idempotency keys). Before writing again the executor asks Asana:
creates are found by name plus the `⟨sp:…⟩` marker the executor puts into notes/text; sections by
name in their project; attachments by file name; project/section memberships by reading the
task. Updates, task and project custom field values and dependency links are idempotent and
covered by the stale/up-to-date check (a value an earlier attempt wrote reads back as done).
"""

from __future__ import annotations

from agents.proposal import ActionKind
from graphs.actions import (
    AddToProjectParams,
    AttachFileParams,
    CreateApprovalTaskParams,
    CreateProjectParams,
    CreateSectionParams,
    CreateSubtaskParams,
    CreateTaskParams,
    Params,
)
from graphs.asana_port import AsanaPort

MARKER_CHARS = 10


def marker(key: str) -> str:
    """The short, visible tag that ties an Asana object to its ledger entry."""
    return f"⟨sp:{key[:MARKER_CHARS]}⟩"


def with_marker(text: str, key: str) -> str:
    mark = marker(key)
    if mark in text:
        return text
    return f"{text.rstrip()}\n\n{mark}" if text.strip() else mark


class Unverifiable(Exception):
    """There is no way to tell whether the earlier attempt wrote; re-writing could duplicate."""


def find_existing(
    asana: AsanaPort, kind: ActionKind, target: str | None, params: Params, key: str, workspace_gid: str
) -> str | None:
    """The gid of the object an earlier attempt created, or None when nothing was written."""
    mark = marker(key)
    if kind == ActionKind.CREATE_PROJECT:
        assert isinstance(params, CreateProjectParams)
        ws = params.workspace_gid or workspace_gid
        for project in asana.projects(ws):
            if project.name == params.name and mark in (project.notes or ""):
                return project.gid
        return None
    if kind == ActionKind.CREATE_SECTION:
        assert isinstance(params, CreateSectionParams) and target
        for section in asana.sections(target):
            if section.name == params.name:
                return section.gid
        return None
    if kind in (ActionKind.CREATE_TASK, ActionKind.CREATE_APPROVAL_TASK):
        assert isinstance(params, CreateTaskParams | CreateApprovalTaskParams)
        home = params.projects[0] if isinstance(params, CreateTaskParams) and params.projects else None
        if isinstance(params, CreateApprovalTaskParams):
            home = params.project
        if home is None:
            raise Unverifiable("a task created outside any project cannot be looked up")
        for task in asana.project_tasks(home):
            if task.name == params.name and mark in (task.notes or ""):
                return task.gid
        return None
    if kind == ActionKind.CREATE_SUBTASK:
        assert isinstance(params, CreateSubtaskParams) and target
        for task in asana.subtasks(target):
            if task.name == params.name and mark in (task.notes or ""):
                return task.gid
        return None
    if kind == ActionKind.POST_COMMENT:
        assert target
        for story in asana.stories(target):
            if mark in (story.text or ""):
                return story.gid
        return None
    if kind == ActionKind.POST_STATUS_UPDATE:
        assert target
        for update in asana.status_updates(target):
            if mark in (update.text or ""):
                return update.gid
        return None
    if kind == ActionKind.ADD_TO_PROJECT:
        # Adding again would be harmless in Asana, but it is still a write: read first.
        assert isinstance(params, AddToProjectParams) and target
        for membership in asana.task(target).memberships:
            same_project = membership.project is not None and membership.project.gid == params.project
            section_ok = params.section is None or (
                membership.section is not None and membership.section.gid == params.section
            )
            if same_project and section_ok:
                return target
        return None
    if kind == ActionKind.ATTACH_FILE:
        assert isinstance(params, AttachFileParams) and target
        for attachment in asana.attachments(target):
            if attachment.name == params.filename:
                return attachment.gid
        return None
    return None
