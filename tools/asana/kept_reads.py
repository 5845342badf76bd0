"""A project's kept task list (tools/asana/task_index.py) as one handling's view of it."""

from __future__ import annotations

from typing import Any

from tools.asana.fields import TaskView
from tools.asana.models import Task
from tools.asana.snapshot import project_tasks_key, snapshot_read
from tools.asana.task_index import PROJECT_TASKS


def kept_project_tasks(reads: Any, project_gid: str, view: TaskView = TaskView.PLANNING) -> list[Task]:
    """`PROJECT_TASKS.tasks`, and within one handling (tools/asana/snapshot.py) the answer to every
    later read of the same project and view, so that every step of the handling sees one list."""
    key = project_tasks_key(project_gid, view)
    # Kept under the client that answers `project_tasks` (a read-only wrapper hands its calls on).
    owner = getattr(reads.project_tasks, "__self__", reads)
    return list(snapshot_read(owner, key, lambda: PROJECT_TASKS.tasks(reads, project_gid, view)))
