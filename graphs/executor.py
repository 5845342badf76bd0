"""The idempotent action executor: the only code that writes to Asana.

Per action: key = idempotency_key(thread, proposal, index) → a finished ledger entry is reused
as-is → otherwise `journal.begin` (PENDING) → if an earlier attempt may have written, probe Asana
for it → resolve `ref:` values from earlier results → stale check against `before` → write →
`journal.finish` with the outcome and its audit row. Calling it again for the same action, in
the same or a new process, never writes twice.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from agents.proposal import Action, ActionKind, ApprovalClass, Proposal, idempotency_key
from graphs.actions import InvalidAction, resolve_refs
from graphs.context import RunContext
from graphs.kinds import Unverifiable, WriteContext, spec_for
from graphs.kinds.fields import SetCustomFieldParams, first_project
from graphs.ports import AuditRecord, LedgerEntry, LedgerStatus
from graphs.probe import marker
from graphs.repeats import applied_repeat, fact_key
from graphs.state import ActionResult
from tools.asana.errors import (
    AsanaError,
    InvalidFieldValue,
    MissingCustomField,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
)

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

    def _budget_project(self, action: Action) -> str | None:
        if action.approval_class != ApprovalClass.AUTO or not self.proposal.scope.project_gids:
            return None
        return self.proposal.scope.project_gids[0]

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
                fact_key=fact_key(action),
                budget_project=self._budget_project(action),
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
        return self._run(index, action, maybe_written, actor=actor, details=details)

    def _run(
        self,
        index: int,
        action: Action,
        maybe_written: bool,
        *,
        actor: str,
        details: dict[str, Any] | None = None,
    ) -> ActionResult:
        def done(status: LedgerStatus, **kw: Any) -> ActionResult:
            return self._finish(index, action, status, actor=actor, details=details, **kw)

        try:
            target = resolve_refs(action.target, self.gids)
            params_raw = resolve_refs(action.params, self.gids)
        except KeyError as missing:
            return done(LedgerStatus.FAILED, message=f"ref {missing.args[0]!r} was not created")
        spec = spec_for(action.kind)
        try:
            params = spec.parse(params_raw)
        except InvalidAction as err:
            return done(LedgerStatus.FAILED, target=target, message=str(err))

        key = self.key(index)
        writer = WriteContext(
            asana=self.ctx.writes,
            reads=self.ctx.asana,
            workspace_gid=self.proposal.scope.workspace_gid,
            allowed_project_gids=self.ctx.allowed_project_gids,
            key=key,
        )
        if not maybe_written and (prior := applied_repeat(self.ctx.journal, action, self.proposal.id)):
            # Another proposal applied the same facts since this one was made (two runs racing,
            # or an older approval decided late): writing again would only repeat it.
            return self._finish(
                index,
                action,
                LedgerStatus.DONE,
                actor=actor,
                target=target,
                gid=(prior.result or {}).get("gid"),
                message=f"already in Asana (proposal {prior.proposal_id[:12]}); not written again",
                details={**(details or {}), "repeat_of": prior.key},
            )
        try:
            if maybe_written:
                try:
                    found = spec.probe(
                        self.ctx.asana, target, params, marker(key), self.proposal.scope.workspace_gid
                    )
                except Unverifiable as err:
                    return done(
                        LedgerStatus.FAILED,
                        target=target,
                        message=f"an earlier attempt may have written this; not retried ({err})",
                    )
                if found is not None:
                    log.info("action %s of %s already applied by an earlier attempt", index, self.proposal.id)
                    spec.after_create(writer, found, params)
                    return done(
                        LedgerStatus.DONE,
                        target=target,
                        gid=found,
                        recovered=True,
                        message="found in Asana from an earlier attempt",
                    )
            stale = spec.stale(self.ctx.asana, action, target, params)
            if stale is not None:
                return done(stale.status, target=target, message=stale.message, conflicts=stale.conflicts)
            gid = spec.write(writer, target, params)
        except AsanaError as err:
            if is_transient(err):
                raise
            return done(LedgerStatus.FAILED, target=target, message=str(err))
        except InvalidAction as err:
            return done(LedgerStatus.FAILED, target=target, message=str(err))
        return done(LedgerStatus.DONE, target=target, gid=gid, message="applied")

    # --- several field values of one task in one write ---------------------------------------

    def execute_fields(self, items: list[FieldItem]) -> None:
        """set_custom_field actions on one task: one read for their stale checks and one PUT for
        all their values, each still ledgered and audited on its own. An action an earlier attempt
        may have written, or that repeats another proposal's write, takes the one-by-one path
        (probe, repeat rule); so does the whole group when a value cannot be encoded, so one bad
        field fails alone."""
        ready: list[tuple[FieldItem, str, SetCustomFieldParams]] = []
        for item in items:
            index, action, actor, details = item
            final, maybe_written = self._begin(index, action)
            if final is not None:
                self._from_entry(action, final)
                continue
            if maybe_written or applied_repeat(self.ctx.journal, action, self.proposal.id):
                self._run(index, action, maybe_written, actor=actor, details=details)
                continue
            try:
                target = resolve_refs(action.target, self.gids)
                params = SetCustomFieldParams.model_validate(resolve_refs(action.params, self.gids))
            except (KeyError, ValueError, InvalidAction):
                self._run(index, action, False, actor=actor, details=details)  # reports the error
                continue
            ready.append((item, str(target), params))
        if not ready:
            return
        reads = _TaskSnapshot(self.ctx.asana)
        writer = WriteContext(
            asana=self.ctx.writes,
            reads=cast(Any, reads),
            workspace_gid=self.proposal.scope.workspace_gid,
            allowed_project_gids=self.ctx.allowed_project_gids,
            key=self.key(ready[0][0][0]),
        )
        spec = spec_for(ActionKind.SET_CUSTOM_FIELD)
        writes: list[tuple[FieldItem, str, SetCustomFieldParams]] = []
        try:
            for item, target, params in ready:
                index, action, actor, details = item
                stale = spec.stale(cast(Any, reads), action, target, params)
                if stale is not None:
                    self._finish(
                        index,
                        action,
                        stale.status,
                        actor=actor,
                        details=details,
                        target=target,
                        message=stale.message,
                        conflicts=stale.conflicts,
                    )
                else:
                    writes.append((item, target, params))
            by_task: dict[tuple[str, str], list[tuple[FieldItem, SetCustomFieldParams]]] = {}
            for item, target, params in writes:
                project = params.project or first_project(writer, target)
                by_task.setdefault((target, project), []).append((item, params))
            for (target, project), group in by_task.items():
                values = {params.field: params.value for _, params in group}
                try:
                    payload = reads.field_map(project).to_custom_fields(values)
                except (InvalidAction, MissingCustomField, InvalidFieldValue):
                    for (index, action, actor, details), _ in group:
                        self._run(index, action, False, actor=actor, details=details)
                    continue
                self.ctx.writes.update_task(target, {"custom_fields": payload})
                for (index, action, actor, details), _ in group:
                    self._finish(
                        index,
                        action,
                        LedgerStatus.DONE,
                        actor=actor,
                        details=details,
                        target=target,
                        message="applied",
                    )
        except AsanaError as err:
            if is_transient(err):
                raise  # the unfinished entries stay PENDING: the next attempt probes each
            for (index, action, actor, details), target, _ in ready:
                if index not in self.results:  # finished ones (conflicts, earlier groups) stay
                    self._finish(
                        index,
                        action,
                        LedgerStatus.FAILED,
                        actor=actor,
                        details=details,
                        target=target,
                        message=str(err),
                    )


# (index, action, actor, details) of one action to execute.
FieldItem = tuple[int, Action, str, dict[str, Any] | None]


class _TaskSnapshot:
    """The reads of one group write: each task read once (the stale checks and the project lookup
    of one task's fields all look at the same moment); everything else passes through."""

    def __init__(self, reads: Any) -> None:
        self._reads = reads
        self._tasks: dict[str, Any] = {}

    def task(self, gid: str) -> Any:
        if gid not in self._tasks:
            self._tasks[gid] = self._reads.task(gid)
        return self._tasks[gid]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reads, name)


class InOrder:
    """Executes a node's actions in order, with each run of consecutive set_custom_field actions
    on the same task written together (Executor.execute_fields): triage's four AI fields are one
    PUT, not four."""

    def __init__(self, ex: Executor) -> None:
        self.ex = ex
        self._group: list[FieldItem] = []

    def execute(
        self, index: int, action: Action, *, actor: str, details: dict[str, Any] | None = None
    ) -> None:
        if action.kind is ActionKind.SET_CUSTOM_FIELD:
            if self._group and self._group[0][1].target != action.target:
                self.flush()
            self._group.append((index, action, actor, details))
            return
        self.flush()
        self.ex.execute(index, action, actor=actor, details=details)

    def flush(self) -> None:
        group, self._group = self._group, []
        if len(group) == 1:
            index, action, actor, details = group[0]
            self.ex.execute(index, action, actor=actor, details=details)
        elif group:
            self.ex.execute_fields(group)


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
                f"not applied: depends on action #{dep + 1}, which was rejected",
                actor=actor,
            )
        state = result.status.value if result is not None else "not run"
        return ex.settle(
            index,
            action,
            LedgerStatus.FAILED,
            f"not applied: depends on action #{dep + 1}, which ended {state}",
            actor=actor,
        )
    return None
