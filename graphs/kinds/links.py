"""Kinds that add or remove dependency links between tasks (idempotent in Asana)."""

from __future__ import annotations

from pydantic import Field, field_validator

from agents.proposal import ActionKind
from graphs.actions import GidOrRef, Params, gid_or_ref
from graphs.kinds.spec import ActionSpec, Refs, WriteContext


class DependencyParams(Params):
    # Asana caps a task at 30 dependency links.
    dependencies: list[GidOrRef] = Field(min_length=1, max_length=30)

    @field_validator("dependencies")
    @classmethod
    def _deps(cls, v: list[str]) -> list[str]:
        return [gid_or_ref(g) for g in v]


class _Dependencies(ActionSpec[DependencyParams]):
    params_model = DependencyParams

    def check_params(self, params: DependencyParams, refs: Refs, workspace_gid: str) -> None:
        for dep in params.dependencies:
            refs.task(dep)


class AddDependency(_Dependencies):
    kind = ActionKind.ADD_DEPENDENCY

    def write(self, w: WriteContext, target: str | None, params: DependencyParams) -> str | None:
        assert target
        w.asana.add_dependencies(target, params.dependencies)
        return None


class RemoveDependency(_Dependencies):
    kind = ActionKind.REMOVE_DEPENDENCY

    def write(self, w: WriteContext, target: str | None, params: DependencyParams) -> str | None:
        assert target
        w.asana.remove_dependencies(target, params.dependencies)
        return None
