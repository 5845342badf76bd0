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
from graphs.actions import InvalidAction, is_ref, ref_name
from graphs.approval import approval_surface
from graphs.context import RunContext, current_thread_id
from graphs.kinds import Denied, spec_for
from graphs.policy_config import PolicyConfig
from graphs.ports import AuditRecord
from graphs.repeats import Quiet, drop_repeats, explain, over_budget, start_of_day
from graphs.scope import OutOfScope, ScopeChecker
from graphs.state import RunState, Verdict, proposal_of

RESERVED_REF_PREFIX = "__"


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
                verdicts[d].approval_class == ApprovalClass.NEEDS_APPROVAL or verdicts[d].deferred
                for d in depends_on
            )
            verdicts.append(
                Verdict(
                    index=index,
                    approval_class=klass,
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
        spec = spec_for(action.kind)
        decided = spec.classify(spec.parse(action.params), self.config)
        if decided is not None:
            return decided
        if action.kind in self.config.auto_kinds:
            return ApprovalClass.AUTO, f"{action.kind.value} is applied automatically"
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
        spec = spec_for(action.kind)
        if action.kind in self.config.denied_kinds:
            raise Denied(f"{action.kind.value} is not allowed in this workspace")
        if action.ref is not None:
            if spec.creates is None:
                raise Denied(f"{action.kind.value} creates nothing, so it cannot define ref {action.ref!r}")
            if action.ref.startswith(RESERVED_REF_PREFIX) and not spec.reserved_ref:
                raise Denied(f"ref names starting with {RESERVED_REF_PREFIX!r} are reserved")
            if action.ref in producers:
                raise Denied(f"ref {action.ref!r} is already defined by action #{producers[action.ref] + 1}")
        try:
            params = spec.parse(action.params)
        except InvalidAction as err:
            raise Denied(str(err)) from None

        refs = _ProposalRefs(self.scope, proposal, producers, verdicts)
        rule = spec.target_rule(params)
        if rule == "none":
            if action.target is not None:
                raise Denied(f"{action.kind.value} takes no target")
        elif not action.target:
            raise Denied(f"{action.kind.value} needs a target {rule}")
        else:
            spec.check_target(action.target, params, refs)
        spec.check_params(params, refs, proposal.scope.workspace_gid)
        if action.before:
            spec.check_before(action.before, params)
        return list(dict.fromkeys(refs.depends))


class _ProposalRefs:
    """The `Refs` a spec checks its gids with: scope for existing objects, earlier actions for refs."""

    def __init__(
        self, scope: ScopeChecker, proposal: Proposal, producers: dict[str, int], verdicts: list[Verdict]
    ) -> None:
        self.scope = scope
        self.proposal = proposal
        self.producers = producers
        self.verdicts = verdicts
        self.depends: list[int] = []

    def _use_ref(self, value: str, expected: str) -> None:
        name = ref_name(value)
        if name not in self.producers:
            raise Denied(f"ref {name!r} is not created by an earlier action")
        producer = self.producers[name]
        made = spec_for(self.proposal.actions[producer].kind).creates
        if made != expected:
            raise Denied(f"ref {name!r} names a {made}, but a {expected} is needed here")
        if self.verdicts[producer].approval_class == ApprovalClass.DENIED:
            raise Denied(f"depends on action #{producer + 1}, which is denied")
        self.depends.append(producer)

    def workspace(self, gid: str | None) -> None:
        self.scope.workspace(gid)

    def project(self, gid: str) -> None:
        if is_ref(gid):
            self._use_ref(gid, "project")
        else:
            self.scope.project(gid)

    def task(self, gid: str) -> None:
        if is_ref(gid):
            self._use_ref(gid, "task")
        elif not gid.isdigit():
            raise Denied(f"{gid!r} is not an Asana gid")
        else:
            self.scope.task(gid)

    def new_section(self, ref: str) -> None:
        self._use_ref(ref, "section")

    def portfolio(self, gid: str) -> None:
        if is_ref(gid):
            self._use_ref(gid, "portfolio")
        else:
            self.scope.portfolio(gid)

    def portfolio_project(self, portfolio_gid: str, project_gid: str) -> None:
        self.scope.portfolio_project(portfolio_gid, project_gid)


def evaluate(proposal: Proposal, config: PolicyConfig, scope: ScopeChecker) -> list[Verdict]:
    return PolicyEngine(config, scope).evaluate(proposal)


def policy_node(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Classify the proposal's actions and, when a human must decide, add the Asana approval surface."""
    ctx = runtime.context
    thread_id = current_thread_id()
    raw = proposal_of(state)
    # Judged by the policy of the workspace the proposal acts in, not the first one configured.
    policy = ctx.policy_for(raw.scope.workspace_gid)
    quiet = drop_repeats(with_tagged_comments(raw, policy), ctx.journal, ctx.repo)
    proposal = quiet.proposal
    scope = ctx.scope_checker()
    verdicts = evaluate(proposal, policy, scope)
    project = proposal.scope.project_gids[0] if proposal.scope.project_gids else None
    used = ctx.journal.done_since(project, start_of_day(ctx.now())) if project else 0
    held = over_budget(proposal, verdicts, budget=policy.daily_write_budget if project else None, used=used)
    if held:
        quiet.held = [a for i, a in enumerate(proposal.actions) if i in held]
        kept = [a for i, a in enumerate(proposal.actions) if i not in held]
        proposal = proposal.model_copy(update={"actions": kept})
        verdicts = evaluate(proposal, policy, scope)
    if quiet.changed:
        proposal = with_quiet_note(
            proposal, quiet, budget=policy.daily_write_budget, used=used, project=project
        )
    if any(v.approval_class == ApprovalClass.NEEDS_APPROVAL for v in verdicts):
        extra = approval_surface(
            proposal,
            verdicts,
            approver_gid=ctx.approver_gid,
            due_hours=ctx.approval_due_hours,
            now=ctx.now(),
            tag=policy.comment_tag,
        )
        proposal = proposal.model_copy(update={"actions": [*proposal.actions, *extra]})
        verdicts = evaluate(proposal, policy, scope)
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
    return {
        "proposal": proposal.model_dump(mode="json"),
        "verdicts": [v.model_dump(mode="json") for v in verdicts],
    }


def with_quiet_note(
    proposal: Proposal, quiet: Quiet, *, budget: int | None, used: int, project: str | None
) -> Proposal:
    """Say in the summary and the evidence what the quiet rules left out (graphs/repeats.py)."""
    note = explain(quiet, budget=budget, used=used, project=project)
    evidence = {
        **proposal.evidence,
        "quiet": {
            "repeats": [a.describe() for a in quiet.repeats],
            "waiting_proposal": quiet.waiting.id if quiet.waiting else None,
            "held_back": [a.describe() for a in quiet.held],
        },
    }
    summary = f"{proposal.summary_markdown.rstrip()}\n\n{note}".strip()
    return proposal.model_copy(update={"summary_markdown": summary, "evidence": evidence})


def annotate(proposal: Proposal, verdicts: list[Verdict]) -> Proposal:
    """Copy each verdict onto its action so stored proposals show the class and the reason."""
    actions = [
        a.model_copy(update={"approval_class": ApprovalClass(v.approval_class), "policy_note": v.note})
        for a, v in zip(proposal.actions, verdicts, strict=True)
    ]
    return proposal.model_copy(update={"actions": actions})
