"""The policy step: classify every action auto | needs_approval | denied.

Denied when the kind is switched off, params fail their strict model, the target is missing,
malformed or outside the allowed scope, or a `ref:` points nowhere (or at a denied action). The
rest is auto or needs_approval by the configurable policy. Human edits go through the same
evaluation (`evaluate`) so an edit can never smuggle in what the policy would deny.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.proposal import Action, ActionKind, ApprovalClass, Proposal
from graphs.actions import (
    CREATES,
    TARGETS,
    UPDATABLE_TASK_FIELDS,
    AddToProjectParams,
    AddToSectionParams,
    AttachFileParams,
    CreateApprovalTaskParams,
    CreateProjectParams,
    CreateTaskParams,
    DependencyParams,
    InvalidAction,
    Params,
    PostStatusUpdateParams,
    SetCustomFieldParams,
    SetProjectCustomFieldParams,
    is_ref,
    parse_params,
    ref_name,
)
from graphs.approval import approval_surface
from graphs.context import RunContext, current_thread_id
from graphs.policy_config import PolicyConfig
from graphs.ports import AuditRecord
from graphs.scope import OutOfScope, ScopeChecker
from graphs.state import RunState, Verdict, proposal_of

RESERVED_REF_PREFIX = "__"


class Denied(Exception):
    pass


def tag_comment(text: str, tag: str) -> str:
    stripped = text.lstrip()
    return stripped if stripped.startswith(tag) else f"{tag} {stripped}"


def with_tagged_comments(proposal: Proposal, config: PolicyConfig) -> Proposal:
    """Every comment the agent posts is visibly marked as an AI proposal."""
    actions = []
    for action in proposal.actions:
        if action.kind == ActionKind.POST_COMMENT and isinstance(action.params.get("text"), str):
            params = {**action.params, "text": tag_comment(action.params["text"], config.comment_tag)}
            action = action.model_copy(update={"params": params})
        actions.append(action)
    return proposal.model_copy(update={"actions": actions})


class PolicyEngine:
    def __init__(self, config: PolicyConfig, scope: ScopeChecker) -> None:
        self.config = config
        self.scope = scope

    def evaluate(self, proposal: Proposal) -> list[Verdict]:
        verdicts: list[Verdict] = []
        producers: dict[str, int] = {}  # ref name -> index of the action creating it
        too_many = len(proposal.actions) > self.config.max_actions
        try:
            self.scope.workspace(proposal.scope.workspace_gid)
            scope_error = None
        except OutOfScope as err:
            scope_error = str(err)
        for index, action in enumerate(proposal.actions):
            depends_on: list[int] = []
            try:
                if too_many:
                    raise Denied(
                        f"proposal has {len(proposal.actions)} actions; at most "
                        f"{self.config.max_actions} are allowed"
                    )
                if scope_error:
                    raise Denied(scope_error)
                depends_on = self._check(proposal, index, action, producers, verdicts)
                klass, note = self._classify(action)
            except Denied as err:
                klass, note = ApprovalClass.DENIED, str(err)
            except OutOfScope as err:
                klass, note = ApprovalClass.DENIED, f"out of scope: {err}"
            deferred = klass == ApprovalClass.AUTO and any(
                verdicts[d].approval_class == ApprovalClass.NEEDS_APPROVAL.value or verdicts[d].deferred
                for d in depends_on
            )
            verdicts.append(
                Verdict(
                    index=index,
                    approval_class=klass.value,
                    note=note,
                    deferred=deferred,
                    depends_on=depends_on,
                )
            )
            if action.ref:
                producers.setdefault(action.ref, index)
        return verdicts

    # --- classification -----------------------------------------------------------------------

    def _classify(self, action: Action) -> tuple[ApprovalClass, str]:
        if action.kind in self.config.auto_kinds:
            return ApprovalClass.AUTO, f"{action.kind.value} is applied automatically"
        if action.kind == ActionKind.SET_CUSTOM_FIELD:
            field = str(action.params.get("field", ""))
            if self.config.is_auto_field(field):
                return ApprovalClass.AUTO, f"AI suggestion field {field!r} is applied automatically"
            return ApprovalClass.NEEDS_APPROVAL, f"custom field {field!r} needs approval"
        if action.kind == ActionKind.SET_PROJECT_CUSTOM_FIELD:
            field = str(action.params.get("field", ""))
            if self.config.is_health_field(field):
                return ApprovalClass.AUTO, f"the health field {field!r} of a project is applied automatically"
            return ApprovalClass.NEEDS_APPROVAL, f"project field {field!r} needs approval"
        return ApprovalClass.NEEDS_APPROVAL, f"{action.kind.value} needs approval"

    # --- validation ---------------------------------------------------------------------------

    def _check(
        self,
        proposal: Proposal,
        index: int,
        action: Action,
        producers: dict[str, int],
        verdicts: list[Verdict],
    ) -> list[int]:
        if action.kind in self.config.denied_kinds:
            raise Denied(f"{action.kind.value} is not allowed in this workspace")
        if action.ref is not None:
            if action.kind not in CREATES:
                raise Denied(f"{action.kind.value} creates nothing, so it cannot define ref {action.ref!r}")
            if action.ref.startswith(RESERVED_REF_PREFIX) and action.kind != ActionKind.CREATE_APPROVAL_TASK:
                raise Denied(f"ref names starting with {RESERVED_REF_PREFIX!r} are reserved")
            if action.ref in producers:
                raise Denied(f"ref {action.ref!r} is already defined by action #{producers[action.ref]}")
        try:
            params = parse_params(action)
        except InvalidAction as err:
            raise Denied(str(err)) from None

        depends: list[int] = []

        def use_ref(value: str, expected: str) -> None:
            name = ref_name(value)
            if name not in producers:
                raise Denied(f"ref {name!r} is not created by an earlier action")
            producer = producers[name]
            made = CREATES[proposal.actions[producer].kind]
            if made != expected:
                raise Denied(f"ref {name!r} names a {made}, but a {expected} is needed here")
            if verdicts[producer].approval_class == ApprovalClass.DENIED.value:
                raise Denied(f"depends on action #{producer}, which is denied")
            depends.append(producer)

        def check_project(gid: str) -> None:
            if is_ref(gid):
                use_ref(gid, "project")
            else:
                self.scope.project(gid)

        def check_task(gid: str) -> None:
            if is_ref(gid):
                use_ref(gid, "task")
            elif not gid.isdigit():
                raise Denied(f"{gid!r} is not an Asana gid")
            else:
                self.scope.task(gid)

        rule = TARGETS[action.kind]
        if isinstance(params, AttachFileParams) and params.parent_type == "project":
            rule = "project"
        if isinstance(params, PostStatusUpdateParams) and params.parent_type == "portfolio":
            if not action.target or is_ref(action.target):
                raise Denied("a portfolio status update needs an existing portfolio gid")
            self.scope.portfolio(action.target)
        elif rule == "none":
            if action.target is not None:
                raise Denied(f"{action.kind.value} takes no target")
        elif not action.target:
            raise Denied(f"{action.kind.value} needs a target {rule}")
        elif rule == "task":
            check_task(action.target)
        elif isinstance(params, SetProjectCustomFieldParams):
            # An existing project, in scope, and an item of the (in-scope) portfolio whose field it is.
            if is_ref(action.target):
                raise Denied("a project field can only be set on an existing project")
            self.scope.project(action.target)
            self.scope.portfolio_project(params.portfolio, action.target)
        else:
            check_project(action.target)

        self._check_params(params, proposal, check_project, check_task, use_ref)
        self._check_before(action, params)
        return list(dict.fromkeys(depends))

    def _check_params(
        self, params: Params, proposal: Proposal, check_project: Any, check_task: Any, use_ref: Any
    ) -> None:
        if isinstance(params, CreateProjectParams | CreateTaskParams | CreateApprovalTaskParams):
            ws = params.workspace_gid or proposal.scope.workspace_gid
            self.scope.workspace(ws)
        if isinstance(params, CreateTaskParams):
            for p in params.projects:
                check_project(p)
            if params.section is not None:
                if not is_ref(params.section):
                    raise Denied("create_task may only place the task in a section this proposal creates")
                use_ref(params.section, "section")
            if params.custom_fields and not params.projects:
                raise Denied("custom fields on a new task need a project to resolve them")
        if isinstance(params, CreateApprovalTaskParams) and params.project is not None:
            check_project(params.project)
        if isinstance(params, AddToProjectParams):
            check_project(params.project)
            if params.section is not None and is_ref(params.section):
                use_ref(params.section, "section")
        if isinstance(params, AddToSectionParams):
            if is_ref(params.section):
                use_ref(params.section, "section")
            elif params.project is None:
                raise Denied("moving to an existing section needs its project, to check the scope")
            if params.project is not None:
                check_project(params.project)
        if isinstance(params, SetCustomFieldParams) and params.project is not None:
            check_project(params.project)
        if isinstance(params, DependencyParams):
            for dep in params.dependencies:
                check_task(dep)

    def _check_before(self, action: Action, params: Params) -> None:
        """`before` must only name values the apply step can read back for its stale check."""
        if not action.before:
            return
        keys = set(action.before)
        if action.kind == ActionKind.UPDATE_TASK:
            unknown = keys - set(UPDATABLE_TASK_FIELDS)
        elif isinstance(params, SetCustomFieldParams | SetProjectCustomFieldParams):
            unknown = {k for k in keys if k.casefold() != params.field.casefold()}
        elif action.kind == ActionKind.ADD_TO_SECTION:
            unknown = keys - {"section"}
            if not unknown and isinstance(params, AddToSectionParams) and params.project is None:
                raise Denied("a before-section needs the project it is in")
        else:
            unknown = keys
        if unknown:
            raise Denied(f"before-values {sorted(unknown)} cannot be checked for {action.kind.value}")


def evaluate(proposal: Proposal, config: PolicyConfig, scope: ScopeChecker) -> list[Verdict]:
    return PolicyEngine(config, scope).evaluate(proposal)


def policy_node(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Classify the proposal's actions and, when a human must decide, add the Asana approval surface."""
    ctx = runtime.context
    thread_id = current_thread_id()
    proposal = with_tagged_comments(proposal_of(state), ctx.policy)
    scope = ScopeChecker(ctx.asana, ctx.allowed_workspace_gids, ctx.allowed_project_gids)
    verdicts = evaluate(proposal, ctx.policy, scope)
    if any(v.approval_class == ApprovalClass.NEEDS_APPROVAL for v in verdicts):
        extra = approval_surface(
            proposal,
            verdicts,
            approver_gid=ctx.approver_gid,
            due_hours=ctx.approval_due_hours,
            now=ctx.now(),
            tag=ctx.policy.comment_tag,
        )
        proposal = proposal.model_copy(update={"actions": [*proposal.actions, *extra]})
        verdicts = evaluate(proposal, ctx.policy, scope)
    proposal = annotate(proposal, verdicts)
    ctx.repo.save_proposal(thread_id, proposal, "pending")
    counts = {
        k: sum(1 for v in verdicts if v.approval_class == k) for k in ("auto", "needs_approval", "denied")
    }
    ctx.audit.append(
        AuditRecord(
            actor=f"agent:{proposal.agent}",
            event="proposal.created",
            outcome="ok",
            thread_id=thread_id,
            proposal_id=proposal.id,
            model=proposal.model,
            reason=proposal.title,
            details={
                "digest": proposal.digest(),
                "classes": counts,
                "prompts": [p.model_dump() for p in proposal.prompts],
            },
        )
    )
    return {"proposal": proposal.model_dump(mode="json"), "verdicts": [v.model_dump() for v in verdicts]}


def annotate(proposal: Proposal, verdicts: list[Verdict]) -> Proposal:
    """Copy each verdict onto its action so stored proposals show the class and the reason."""
    actions = [
        a.model_copy(update={"approval_class": ApprovalClass(v.approval_class), "policy_note": v.note})
        for a, v in zip(proposal.actions, verdicts, strict=True)
    ]
    return proposal.model_copy(update={"actions": actions})
