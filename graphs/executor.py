"""The idempotent action executor: the only code that writes to Asana.

Per action: key = idempotency_key(thread, proposal, index) → a finished ledger entry is reused
as-is → otherwise `journal.begin` (PENDING) → if an earlier attempt may have written, probe Asana
for it → resolve `ref:` values from earlier results → stale check against `before` → write →
`journal.finish` with the outcome and its audit row. Calling it again for the same action, in
the same or a new process, never writes twice.
"""

from __future__ import annotations

import logging
from typing import Any

from agents.proposal import Action, ActionKind, Proposal, idempotency_key
from graphs.actions import (
    AddToProjectParams,
    AddToSectionParams,
    AttachFileParams,
    CreateApprovalTaskParams,
    CreateProjectParams,
    CreateSectionParams,
    CreateSubtaskParams,
    CreateTaskParams,
    DependencyParams,
    InvalidAction,
    Params,
    PostCommentParams,
    PostStatusUpdateParams,
    SetCustomFieldParams,
    SetProjectCustomFieldParams,
    UpdateTaskParams,
    parse_params,
    resolve_refs,
)
from graphs.asana_port import AsanaPort
from graphs.context import RunContext
from graphs.ports import AuditRecord, LedgerEntry, LedgerStatus
from graphs.probe import Unverifiable, find_existing, with_marker
from graphs.stale import compare, compare_project_fields
from graphs.state import ActionResult
from tools.asana.errors import AsanaError, RateLimited, ServerError, TransportError, Unauthorized

log = logging.getLogger(__name__)

_OUTCOME = {
    LedgerStatus.DONE: ("action.applied", "ok"),
    LedgerStatus.CONFLICT: ("action.conflict", "conflict"),
    LedgerStatus.FAILED: ("action.failed", "failed"),
    LedgerStatus.REJECTED: ("action.rejected", "rejected"),
    LedgerStatus.DENIED: ("action.denied", "denied"),
}


def is_transient(err: AsanaError) -> bool:
    """Failures worth resuming later (the run stops; the entry stays PENDING for the probe)."""
    return isinstance(err, RateLimited | ServerError | TransportError | Unauthorized)


class Executor:
    """Executes one proposal's actions for one thread, remembering created gids for `ref:`s."""

    def __init__(self, ctx: RunContext, thread_id: str, proposal: Proposal, *, phase: str) -> None:
        self.ctx = ctx
        self.thread_id = thread_id
        self.proposal = proposal
        self.phase = phase
        self.gids: dict[str, str] = {}
        self.results: dict[int, ActionResult] = {}

    @property
    def asana(self) -> AsanaPort:
        return self.ctx.asana

    def key(self, index: int) -> str:
        return idempotency_key(self.thread_id, self.proposal.id, index)

    # --- bookkeeping --------------------------------------------------------------------------

    def _remember(self, action: Action, result: ActionResult) -> ActionResult:
        self.results[result.index] = result
        if action.ref and result.status == LedgerStatus.DONE and result.gid:
            self.gids[action.ref] = result.gid
        return result

    def _from_entry(self, action: Action, entry: LedgerEntry) -> ActionResult:
        data = dict(entry.result or {})
        data.update(index=entry.action_index, kind=entry.kind, status=entry.status)
        data.setdefault("target", entry.target)
        return self._remember(action, ActionResult.model_validate(data))

    def _finish(
        self,
        index: int,
        action: Action,
        status: LedgerStatus,
        *,
        actor: str,
        target: str | None = None,
        gid: str | None = None,
        message: str = "",
        conflicts: list[dict[str, Any]] | None = None,
        recovered: bool = False,
        details: dict[str, Any] | None = None,
    ) -> ActionResult:
        result = ActionResult(
            index=index,
            kind=action.kind.value,
            status=status,
            target=target if target is not None else action.target,
            gid=gid,
            message=message,
            phase=self.phase,  # type: ignore[arg-type]
            conflicts=conflicts or [],
            recovered=recovered,
        )
        event, outcome = _OUTCOME[status]
        audit = AuditRecord(
            actor=actor,
            event=event,
            outcome=outcome,
            thread_id=self.thread_id,
            proposal_id=self.proposal.id,
            action_index=index,
            idempotency_key=self.key(index),
            target=result.target,
            before=action.before,
            after=action.after if action.after is not None else action.params,
            reason=message or action.reason,
            model=self.proposal.model,
            details={"kind": action.kind.value, "gid": gid, "recovered": recovered, **(details or {})},
        )
        self.ctx.journal.finish(self.key(index), status, result.model_dump(mode="json"), audit)
        return self._remember(action, result)

    def _begin(self, index: int, action: Action) -> tuple[LedgerEntry | None, bool]:
        """(final entry to reuse, or None; whether an earlier attempt may already have written)."""
        key = self.key(index)
        existing = self.ctx.journal.get(key)
        if existing is not None and existing.status != LedgerStatus.PENDING:
            return existing, False
        entry = self.ctx.journal.begin(
            LedgerEntry(
                key=key,
                thread_id=self.thread_id,
                proposal_id=self.proposal.id,
                action_index=index,
                kind=action.kind.value,
                target=action.target,
                status=LedgerStatus.PENDING,
            )
        )
        if entry.status != LedgerStatus.PENDING:
            return entry, False
        return None, existing is not None or entry.attempts > 1

    # --- public API ---------------------------------------------------------------------------

    def settle(
        self,
        index: int,
        action: Action,
        status: LedgerStatus,
        message: str,
        *,
        actor: str,
        details: dict[str, Any] | None = None,
    ) -> ActionResult:
        """Record an outcome that involves no write (rejected, denied, skipped for a failed ref)."""
        final, _ = self._begin(index, action)
        if final is not None:
            return self._from_entry(action, final)
        return self._finish(index, action, status, actor=actor, message=message, details=details)

    def execute(
        self, index: int, action: Action, *, actor: str, details: dict[str, Any] | None = None
    ) -> ActionResult:
        final, maybe_written = self._begin(index, action)
        if final is not None:
            return self._from_entry(action, final)

        def done(status: LedgerStatus, **kw: Any) -> ActionResult:
            return self._finish(index, action, status, actor=actor, details=details, **kw)

        try:
            target = resolve_refs(action.target, self.gids)
            resolved = action.model_copy(
                update={"target": target, "params": resolve_refs(action.params, self.gids)}
            )
        except KeyError as missing:
            return done(LedgerStatus.FAILED, message=f"ref {missing.args[0]!r} was not created")
        try:
            params = parse_params(resolved)
        except InvalidAction as err:
            return done(LedgerStatus.FAILED, target=target, message=str(err))

        key = self.key(index)
        try:
            if maybe_written:
                try:
                    found = find_existing(
                        self.asana, action.kind, target, params, key, self.proposal.scope.workspace_gid
                    )
                except Unverifiable as err:
                    return done(
                        LedgerStatus.FAILED,
                        target=target,
                        message=f"an earlier attempt may have written this; not retried ({err})",
                    )
                if found is not None:
                    log.info("action %s of %s already applied by an earlier attempt", index, self.proposal.id)
                    self._after_create(action.kind, found, params)
                    return done(
                        LedgerStatus.DONE,
                        target=target,
                        gid=found,
                        recovered=True,
                        message="found in Asana from an earlier attempt",
                    )
            check = self._stale_check(action, target, params)
            if check is not None:
                status, message, conflicts = check
                return done(status, target=target, message=message, conflicts=conflicts)
            gid = self._write(action.kind, target, params, key)
        except AsanaError as err:
            if is_transient(err):
                raise
            return done(LedgerStatus.FAILED, target=target, message=str(err))
        except InvalidAction as err:
            return done(LedgerStatus.FAILED, target=target, message=str(err))
        return done(LedgerStatus.DONE, target=target, gid=gid, message="applied")

    # --- stale check --------------------------------------------------------------------------

    def _wanted(self, kind: ActionKind, params: Params) -> dict[str, Any] | None:
        if kind == ActionKind.UPDATE_TASK:
            assert isinstance(params, UpdateTaskParams)
            return params.fields()
        if isinstance(params, SetCustomFieldParams | SetProjectCustomFieldParams):
            return {params.field: params.value}
        return None

    def _stale_check(
        self, action: Action, target: str | None, params: Params
    ) -> tuple[LedgerStatus, str, list[dict[str, Any]]] | None:
        if action.kind == ActionKind.ADD_TO_SECTION and action.before and target:
            assert isinstance(params, AddToSectionParams) and params.project
            section = self.asana.task(target).section_in(params.project)
            now = section.gid if section else None
            if now == params.section:
                return LedgerStatus.DONE, "already in that section", []
            if now != action.before.get("section"):
                conflict = {
                    "field": "section",
                    "before": action.before.get("section"),
                    "now": now,
                    "wanted": params.section,
                }
                return LedgerStatus.CONFLICT, "the task moved since the proposal", [conflict]
            return None
        wanted = self._wanted(action.kind, params)
        if wanted is None or target is None:
            return None
        if isinstance(params, SetProjectCustomFieldParams):
            # Read back the project's own value: equal → done, moved since the proposal → conflict.
            conflicts, already = compare_project_fields(
                self.asana.project_with_fields(target), action.before, wanted
            )
        else:
            conflicts, already = compare(self.asana.task(target), action.before, wanted)
        if conflicts:
            names = ", ".join(c.field for c in conflicts)
            return (
                LedgerStatus.CONFLICT,
                f"changed in Asana since the proposal: {names}",
                [c.model_dump(mode="json") for c in conflicts],
            )
        if already:
            return LedgerStatus.DONE, "already up to date", []
        return None

    # --- writes -------------------------------------------------------------------------------

    def _first_project(self, task_gid: str) -> str:
        task = self.asana.task(task_gid)
        member_of = [m.project.gid for m in task.memberships if m.project] + [p.gid for p in task.projects]
        allowed = self.ctx.allowed_project_gids
        for gid in member_of:
            if not allowed or gid in allowed:
                return gid
        raise InvalidAction(f"task {task_gid} has no project whose custom fields could be used")

    def _after_create(self, kind: ActionKind, gid: str, params: Params) -> None:
        """Follow-up writes of a create (idempotent, so also run when a probe found the object)."""
        if kind == ActionKind.CREATE_TASK and isinstance(params, CreateTaskParams) and params.section:
            self.asana.add_task_to_section(params.section, gid)

    def _write(self, kind: ActionKind, target: str | None, params: Params, key: str) -> str | None:
        asana = self.asana
        ws = self.proposal.scope.workspace_gid
        if kind == ActionKind.CREATE_PROJECT:
            assert isinstance(params, CreateProjectParams)
            return asana.create_project(
                params.workspace_gid or ws,
                params.name,
                team_gid=params.team_gid,
                notes=with_marker(params.notes, key),
                start_on=params.start_on,
                due_on=params.due_on,
                owner_gid=params.owner_gid,
            ).gid
        if kind == ActionKind.CREATE_SECTION:
            assert isinstance(params, CreateSectionParams) and target
            return asana.create_section(target, params.name).gid
        if kind == ActionKind.ADD_TO_PROJECT:
            assert isinstance(params, AddToProjectParams) and target
            asana.add_task_to_project(target, params.project, params.section)
            return None
        if kind == ActionKind.ADD_TO_SECTION:
            assert isinstance(params, AddToSectionParams) and target
            asana.add_task_to_section(params.section, target)
            return None
        if kind == ActionKind.CREATE_TASK:
            assert isinstance(params, CreateTaskParams)
            fields = (
                asana.field_map(params.projects[0]).to_custom_fields(params.custom_fields)
                if params.custom_fields
                else None
            )
            gid = asana.create_task(
                name=params.name,
                workspace_gid=params.workspace_gid or ws,
                projects=params.projects or None,
                notes=with_marker(params.notes, key),
                assignee=params.assignee,
                due_on=params.due_on,
                due_at=params.due_at,
                resource_subtype=params.resource_subtype,
                custom_fields=fields,
            ).gid
            self._after_create(kind, gid, params)
            return gid
        if kind == ActionKind.CREATE_SUBTASK:
            assert isinstance(params, CreateSubtaskParams) and target
            return asana.create_task(
                name=params.name,
                parent_gid=target,
                notes=with_marker(params.notes, key),
                assignee=params.assignee,
                due_on=params.due_on,
            ).gid
        if kind == ActionKind.UPDATE_TASK:
            assert isinstance(params, UpdateTaskParams) and target
            asana.update_task(target, params.fields())
            return None
        if kind == ActionKind.SET_CUSTOM_FIELD:
            assert isinstance(params, SetCustomFieldParams) and target
            project = params.project or self._first_project(target)
            payload = asana.field_map(project).to_custom_fields({params.field: params.value})
            asana.update_task(target, {"custom_fields": payload})
            return None
        if kind == ActionKind.SET_PROJECT_CUSTOM_FIELD:
            assert isinstance(params, SetProjectCustomFieldParams) and target
            payload = asana.portfolio_field_map(params.portfolio).to_custom_fields(
                {params.field: params.value}
            )
            asana.update_project_custom_fields(target, payload)
            return None
        if kind == ActionKind.ADD_DEPENDENCY:
            assert isinstance(params, DependencyParams) and target
            asana.add_dependencies(target, params.dependencies)
            return None
        if kind == ActionKind.REMOVE_DEPENDENCY:
            assert isinstance(params, DependencyParams) and target
            asana.remove_dependencies(target, params.dependencies)
            return None
        if kind == ActionKind.POST_COMMENT:
            assert isinstance(params, PostCommentParams) and target
            return asana.add_comment(target, with_marker(params.text, key)).gid
        if kind == ActionKind.POST_STATUS_UPDATE:
            assert isinstance(params, PostStatusUpdateParams) and target
            return asana.create_status_update(
                target, title=params.title, text=with_marker(params.text, key), status_type=params.status_type
            ).gid
        if kind == ActionKind.ATTACH_FILE:
            assert isinstance(params, AttachFileParams) and target
            return asana.upload_attachment(target, params.filename, params.data(), params.content_type).gid
        if kind == ActionKind.CREATE_APPROVAL_TASK:
            assert isinstance(params, CreateApprovalTaskParams)
            return asana.create_task(
                name=params.name,
                workspace_gid=params.workspace_gid or ws,
                projects=[params.project] if params.project else None,
                notes=with_marker(params.notes, key),
                assignee=params.assignee,
                due_at=params.due_at,
                resource_subtype="approval",
            ).gid
        raise InvalidAction(f"no writer for {kind.value}")


def dependency_block(
    ex: Executor, index: int, action: Action, depends_on: list[int], *, actor: str
) -> ActionResult | None:
    """Settle an action whose `ref:` producer did not succeed (rejected stays rejected)."""
    for dep in depends_on:
        result = ex.results.get(dep)
        if result is not None and result.status == LedgerStatus.DONE:
            continue
        if result is not None and result.status == LedgerStatus.REJECTED:
            return ex.settle(
                index,
                action,
                LedgerStatus.REJECTED,
                f"not applied: depends on action #{dep}, which was rejected",
                actor=actor,
            )
        state = result.status.value if result is not None else "not run"
        return ex.settle(
            index,
            action,
            LedgerStatus.FAILED,
            f"not applied: depends on action #{dep}, which ended {state}",
            actor=actor,
        )
    return None
