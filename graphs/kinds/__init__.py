"""The action-kind registry: one `ActionSpec` per `ActionKind`.

The policy, publish, the executor, the crash-window probe and the default approval policy all
loop over these specs; nothing else branches on a kind. See the README ("How to add an action
kind") for the steps.
"""

from __future__ import annotations

from typing import Any

from agents.proposal import Action, ActionKind, ApprovalClass
from graphs.actions import Params
from graphs.kinds.approval import CloseApprovalTask, CreateApprovalTask, ResetApprovalTask
from graphs.kinds.attachments import AttachDocument
from graphs.kinds.duplicates import LinkDuplicate
from graphs.kinds.fields import SetCustomField, SetProjectCustomField
from graphs.kinds.goals import LinkGoal
from graphs.kinds.links import AddDependency, RemoveDependency
from graphs.kinds.portfolios import AddToPortfolio, CreatePortfolio
from graphs.kinds.projects import AddProjectFields, CreateProject, CreateSection
from graphs.kinds.reports import AttachFile, PostComment, PostStatusUpdate
from graphs.kinds.spec import ActionSpec, Denied, Refs, StaleOutcome, Unverifiable, WriteContext
from graphs.kinds.tasks import (
    AddToProject,
    AddToSection,
    CreateSubtask,
    CreateTask,
    RemoveFromProject,
    UpdateTask,
)

__all__ = [
    "ActionSpec",
    "Denied",
    "Refs",
    "StaleOutcome",
    "Unverifiable",
    "WriteContext",
    "all_specs",
    "default_classes",
    "parse_params",
    "spec_for",
]

_SPECS: tuple[ActionSpec[Any], ...] = (
    CreateProject(),
    CreatePortfolio(),
    AddToPortfolio(),
    LinkGoal(),
    CreateSection(),
    AddProjectFields(),
    AddToProject(),
    AddToSection(),
    RemoveFromProject(),
    CreateTask(),
    CreateSubtask(),
    UpdateTask(),
    SetCustomField(),
    SetProjectCustomField(),
    AddDependency(),
    RemoveDependency(),
    LinkDuplicate(),
    PostComment(),
    PostStatusUpdate(),
    AttachFile(),
    AttachDocument(),
    CreateApprovalTask(),
    CloseApprovalTask(),
    ResetApprovalTask(),
)
_BY_KIND: dict[ActionKind, ActionSpec[Any]] = {s.kind: s for s in _SPECS}


def all_specs() -> tuple[ActionSpec[Any], ...]:
    return _SPECS


def spec_for(kind: ActionKind) -> ActionSpec[Any]:
    return _BY_KIND[kind]


def parse_params(action: Action) -> Params:
    """The action's params through its kind's strict model (`InvalidAction` when they do not fit)."""
    params: Params = spec_for(action.kind).parse(action.params)
    return params


def default_classes() -> dict[ActionKind, ApprovalClass]:
    """Each kind's default approval class (the policy's defaults are derived from this)."""
    return {s.kind: s.default_class for s in _SPECS}
