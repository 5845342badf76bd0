"""What a caller (CLI, event, eval) may ask triage for. Targets come from here only, never from task text."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_TASKS = 50
MAX_BACKLOGS = 10


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
    # Form intake (agents/triage/intake.py): the task is a request that came in through a form.
    intake: bool = Field(
        default=False,
        description="with task: a request from an intake form; also find near-duplicates in the "
        "backlogs and ask the requester for what is missing",
    )
    backlogs: list[str] = Field(
        default_factory=list,
        max_length=MAX_BACKLOGS,
        description="with intake: the backlog projects (gids or names) to compare the request with",
    )

    _check = field_validator("task")(lambda v: v if v is None else _gid(v))

    @field_validator("backlogs")
    @classmethod
    def _backlogs(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(b.strip() for b in v if b.strip()))

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
        if self.intake and not (self.task and not self.tasks and not self.project and self.backlogs):
            raise ValueError("intake takes one task and the backlogs to compare it with")
        if self.backlogs and not self.intake:
            raise ValueError("backlogs are only compared with in intake mode")
        return self

    def explicit_gids(self) -> list[str]:
        return list(dict.fromkeys(([self.task] if self.task else []) + self.tasks))
