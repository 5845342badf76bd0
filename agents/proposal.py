"""The proposal contract: what an agent wants to change, and what a human decided about it.

Every agent ends in a `Proposal`; nothing is written to Asana except through the gate and the
apply node, which execute the proposal's `Action`s one by one. Everything here is plain pydantic
so it survives checkpoints, the app DB and the HTTP API unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

REF_PREFIX = "ref:"


class ActionKind(StrEnum):
    CREATE_PROJECT = "create_project"
    # A portfolio (e.g. the Blockers portfolio), and a project put into one: Asana portfolios hold
    # projects and portfolios, never tasks.
    CREATE_PORTFOLIO = "create_portfolio"
    ADD_TO_PORTFOLIO = "add_to_portfolio"
    # Make a project (e.g. the sprint a plan creates) support an Asana goal.
    LINK_GOAL = "link_goal"
    CREATE_SECTION = "create_section"
    # Put existing custom fields (e.g. the backlog's) on a project, so its tasks' values can be set.
    ADD_PROJECT_FIELDS = "add_project_fields"
    ADD_TO_PROJECT = "add_to_project"
    ADD_TO_SECTION = "add_to_section"
    REMOVE_FROM_PROJECT = "remove_from_project"
    CREATE_TASK = "create_task"
    CREATE_SUBTASK = "create_subtask"
    UPDATE_TASK = "update_task"
    SET_CUSTOM_FIELD = "set_custom_field"
    # A project's own value of a portfolio field (e.g. the health agent's per-project Health).
    SET_PROJECT_CUSTOM_FIELD = "set_project_custom_field"
    ADD_DEPENDENCY = "add_dependency"
    REMOVE_DEPENDENCY = "remove_dependency"
    # Link an intake request to the backlog item it repeats (a comment on each), or merge it
    # (also complete the request): Asana's API can neither relate nor mark duplicates.
    LINK_DUPLICATE = "link_duplicate"
    POST_COMMENT = "post_comment"
    POST_STATUS_UPDATE = "post_status_update"
    ATTACH_FILE = "attach_file"
    # A document people read (the sprint review, a ceremony's .ics): approval by default.
    ATTACH_DOCUMENT = "attach_document"
    CREATE_APPROVAL_TASK = "create_approval_task"
    # Mirror a decision taken anywhere (CLI, API, chat) onto the approval task, and complete it.
    CLOSE_APPROVAL_TASK = "close_approval_task"
    # Undo a change of the approval task's status by someone who may not decide.
    RESET_APPROVAL_TASK = "reset_approval_task"


class ApprovalClass(StrEnum):
    AUTO = "auto"
    NEEDS_APPROVAL = "needs_approval"
    DENIED = "denied"


class Action(BaseModel):
    """One Asana write.

    `target` is the gid the write acts on, or `ref:<name>` for a resource that an earlier action
    of the same proposal creates (that action carries `ref=<name>`). Params may hold `ref:` values
    too; the apply node resolves them from the ledger, so a resumed apply sees the same gids.
    `before` is what the agent observed when it proposed (checked again at apply time), `after`
    what the write will leave.
    """

    model_config = ConfigDict(use_enum_values=False)

    kind: ActionKind
    target: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str = ""
    ref: str | None = None
    # What the write states, for repeat detection across runs: a report whose kind and facts equal
    # those of an earlier applied one is not written again (see graphs/repeats.py). None → the
    # target and params; give facts when the wording carries volatile parts (dates, counters) or
    # when the same fact may land on different targets (one nudge per person per day).
    facts: dict[str, Any] | None = None
    approval_class: ApprovalClass | None = None
    policy_note: str | None = None

    def describe(self) -> str:
        tgt = self.target or "-"
        return f"{self.kind.value} {tgt}: {self.reason}".strip()


class Scope(BaseModel):
    workspace_gid: str
    project_gids: list[str] = Field(default_factory=list)


class PromptRef(BaseModel):
    id: str
    version: str
    sha256: str


class Proposal(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    agent: str
    scope: Scope
    title: str
    summary_markdown: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    actions: list[Action] = Field(default_factory=list)
    model: str = "offline"
    prompts: list[PromptRef] = Field(default_factory=list)
    # What the proposal is about, when a newer proposal about the same thing replaces it (e.g.
    # "sprint-plan:<backlog gid>"): a newer waiting one supersedes an older one. None: never
    # superseded (e.g. two DoD reviews of different tasks in one project are both kept).
    subject: str | None = None
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def digest(self) -> str:
        """Hash of exactly what a human approves: the actions and their targets/params."""
        payload = [a.model_dump(mode="json", exclude={"approval_class", "policy_note"}) for a in self.actions]
        raw = json.dumps({"id": self.id, "actions": payload}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()


class DecisionType(StrEnum):
    APPROVE = "approve"
    EDIT = "edit"
    REJECT = "reject"


class EditedAction(BaseModel):
    """HumanInTheLoopMiddleware's `edited_action`: `name` is the action kind, `args` its new args."""

    name: str
    args: dict[str, Any]


# A reviewer's reason, as the console's field allows: it is stored with every action decided and
# audited twice per action, so a 900 KB reason on the API became 60 MB of rows.
MAX_DECISION_MESSAGE = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Decision(BaseModel):
    type: DecisionType
    edited_action: EditedAction | None = None
    message: str | None = Field(default=None, max_length=MAX_DECISION_MESSAGE)

    @field_validator("message")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        # Terminal escapes and NULs from an API client never reach the CLI, the console or Asana.
        return None if value is None else _CONTROL.sub("", value)


def action_args(action: Action) -> dict[str, Any]:
    """The `args` shown to a reviewer (and editable): target and params."""
    return {"target": action.target, "params": action.params}


def idempotency_key(thread_id: str, proposal_id: str, action_index: int) -> str:
    raw = f"{thread_id}\x1f{proposal_id}\x1f{action_index}"
    return hashlib.sha256(raw.encode()).hexdigest()
