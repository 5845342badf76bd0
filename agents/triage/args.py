"""What a caller (CLI, event, eval) may ask triage for. Targets come from here only, never from task text."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_TASKS = 50


def _gid(value: str) -> str:
    if not value.isdigit():
        raise ValueError(f"{value!r} is not a task gid")
    return value


class TriageArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: str | None = Field(default=None, description="one task gid")
    tasks: list[str] = Field(default_factory=list, description="several task gids (e.g. all added today)")
    project: str | None = Field(default=None, description="project gid or name (its open tasks)")
    unestimated: bool = Field(default=False, description="with project: only tasks without Story Points")
    workspace: str | None = None
    limit: int = Field(default=MAX_TASKS, ge=1, le=100, description="at most this many tasks per run")

    _check = field_validator("task")(lambda v: v if v is None else _gid(v))

    @field_validator("tasks")
    @classmethod
    def _tasks(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(_gid(g) for g in v))

    @model_validator(mode="after")
    def _one_mode(self) -> TriageArgs:
        if not (self.task or self.tasks or self.project):
            raise ValueError("give a task gid (task/tasks) or a project")
        if self.unestimated and not self.project:
            raise ValueError("unestimated needs a project")
        return self

    def explicit_gids(self) -> list[str]:
        return list(dict.fromkeys(([self.task] if self.task else []) + self.tasks))
