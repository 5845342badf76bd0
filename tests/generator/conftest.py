"""Fixtures for the workspace generator tests.

`ws` is the default workspace (seed 7), generated once; `view` reads it the way an agent sees it
through the API (field values by name, sections by name), independent of the generator's plan.
"""

from __future__ import annotations

import pytest

from sandbox.generator import GeneratedWorkspace, generate_workspace
from sandbox.records import Task


class WorkspaceView:
    def __init__(self, ws: GeneratedWorkspace) -> None:
        self.ws = ws
        self.store = ws.store

    def field_gid(self, name: str) -> str:
        return next(cf.gid for cf in self.store.custom_fields.values() if cf.name == name)

    def value(self, task: Task, name: str) -> object:
        """The task's value for a field, enum options resolved to their names."""
        cf = self.store.custom_fields[self.field_gid(name)]
        raw = task.custom_fields.get(cf.gid)
        if raw is not None and cf.resource_subtype == "enum":
            return self.store.enum_options[raw].name
        return raw

    def tasks(self, project_gid: str) -> list[Task]:
        return [self.store.tasks[g] for g in self.store.project_tasks(project_gid)]

    def section(self, task: Task, project_gid: str) -> str:
        section = self.store.section_of(task, project_gid)
        assert section is not None, f"{task.name} is not in project {project_gid}"
        return self.store.sections[section].name

    def open_backlog(self) -> list[Task]:
        return [t for t in self.tasks(self.ws.backlog_project_gid) if not t.completed]

    def tag_names(self, task: Task) -> list[str]:
        return [self.store.tags[g].name for g in task.tags]


@pytest.fixture(scope="session")
def ws() -> GeneratedWorkspace:
    return generate_workspace(7)


@pytest.fixture(scope="session")
def view(ws: GeneratedWorkspace) -> WorkspaceView:
    return WorkspaceView(ws)
