"""Read what a DoD review needs from Asana and map it onto tools.dod's plain snapshot.

Cost: task, subtasks, stories, attachments (one call each), `me` (to tell our own comments
apart), the review project's sections when a move may be proposed, and the project's task list
only when no file-based DoD applies (to find a "Definition of Done" task).
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict

from tools.asana.models import Attachment, Project, Section, Story, Task, User
from tools.asana.task_index import PROJECT_TASKS
from tools.dod.config import ReadyMarker
from tools.dod.loader import DOD_TASK_NAME
from tools.dod.models import AttachmentInfo, CommentInfo, SubtaskInfo, TaskSnapshot

AI_TAG = "[AI Proposal]"


class QaReader(Protocol):
    """The read calls the QA agent makes (the typed Asana client satisfies it)."""

    def me(self) -> User: ...

    def task(self, gid: str) -> Task: ...

    def subtasks(self, task_gid: str) -> list[Task]: ...

    def stories(self, task_gid: str) -> list[Story]: ...

    def attachments(self, parent_gid: str) -> list[Attachment]: ...

    def sections(self, project_gid: str) -> list[Section]: ...

    def project(self, gid: str) -> Project: ...

    def project_tasks(self, project_gid: str) -> list[Task]: ...


class ReviewInputs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    task: Task
    snapshot: TaskSnapshot
    bot_gid: str | None


def snapshot_of(
    task: Task, subtasks: list[Task], stories: list[Story], attachments: list[Attachment], bot_gid: str | None
) -> TaskSnapshot:
    comments = [
        CommentInfo(
            gid=s.gid,
            text=s.text or "",
            # Our own comments (by the bot account or carrying the AI tag) quote criteria back.
            by_bot=bool(
                (bot_gid and s.created_by and s.created_by.gid == bot_gid) or AI_TAG in (s.text or "")
            ),
        )
        for s in stories
        if s.is_comment
    ]
    return TaskSnapshot(
        gid=task.gid,
        name=task.name or "",
        notes=task.notes or "",
        completed=bool(task.completed),
        subtasks=[SubtaskInfo(gid=s.gid, name=s.name or "", completed=bool(s.completed)) for s in subtasks],
        comments=comments,
        attachments=[
            AttachmentInfo(gid=a.gid, name=a.name or "", url=a.view_url or a.permanent_url or a.download_url)
            for a in attachments
        ],
        fields={cf.name: cf.display for cf in task.custom_fields if cf.name},
    )


def read_review_inputs(asana: QaReader, task_gid: str) -> ReviewInputs:
    task = asana.task(task_gid)
    bot_gid = asana.me().gid
    snapshot = snapshot_of(
        task, asana.subtasks(task_gid), asana.stories(task_gid), asana.attachments(task_gid), bot_gid
    )
    return ReviewInputs(task=task, snapshot=snapshot, bot_gid=bot_gid)


def _same(a: str | None, b: str) -> bool:
    return a is not None and a.strip().casefold() == b.strip().casefold()


def ready_project(task: Task, marker: ReadyMarker) -> str | None:
    """The project in which the task sits in the "Ready for Review" section, if any."""
    for m in task.memberships:
        if m.project and m.section and _same(m.section.name, marker.section):
            return m.project.gid
    return None


def is_ready(task: Task, marker: ReadyMarker) -> bool:
    """Entered review: in the review section of any of its projects, or the status at that option."""
    return ready_project(task, marker) is not None or _same(task.display(marker.status_field), marker.status)


def review_project(
    task: Task, marker: ReadyMarker, requested: str | None, allowed: frozenset[str]
) -> str | None:
    """Which of the task's projects the review (and a proposed move) happens in.

    An explicit request must be one of the task's projects; otherwise the project where it sits
    in the review section, else its first project inside the allowed scope.
    """
    projects = [m.project.gid for m in task.memberships if m.project] or [p.gid for p in task.projects]
    if requested:
        if requested not in projects:
            raise ValueError(f"task {task.gid} is not in project {requested}")
        return requested
    in_review = ready_project(task, marker)
    if in_review and (not allowed or in_review in allowed):
        return in_review
    for gid in projects:
        if not allowed or gid in allowed:
            return gid
    return None


def find_dod_task(asana: QaReader, project_gid: str) -> Task | None:
    """The project's "Definition of Done" task (exact name, case-insensitive; first open one wins).

    From the process's copy of the project's tasks kept current with `modified_since` reads
    (`PROJECT_TASKS`): one call per review instead of one per 100 tasks (issue 23). A DoD task
    removed from the project may be used for up to `REFRESH_S` longer; its notes are current."""
    rows = PROJECT_TASKS.tasks(asana, project_gid)
    matches = [t for t in rows if _same(t.name, DOD_TASK_NAME) and not t.parent]
    matches.sort(key=lambda t: (bool(t.completed), t.gid))
    return matches[0] if matches else None
