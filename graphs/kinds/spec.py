"""What one action kind is: the single object the policy, publish, executor and probe loop over.

An `ActionSpec` bundles everything about a kind that used to be spread over an enum, three
tables, the policy's checks, the executor's if-chain, the crash-window probe and two default
policies: its strict params model, its target rule, what it creates (for `ref:`s), the scope
references inside its params, which `before` values it can check, its stale check, its write,
its probe and its default approval class. Adding a kind = one spec module + its tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeVar

from pydantic import ValidationError

from agents.proposal import Action, ActionKind, ApprovalClass
from graphs.actions import InvalidAction, Params
from graphs.ports import LedgerStatus
from graphs.probe import with_marker
from graphs.stale import FieldState, compare
from tools.errors import SprintpilotError

if TYPE_CHECKING:
    from graphs.asana_port import AsanaReads, AsanaWrites
    from graphs.policy_config import PolicyConfig

TargetRule = Literal["none", "task", "project", "portfolio"]
Creates = Literal["project", "section", "task", "portfolio"]
P = TypeVar("P", bound=Params)


class Denied(SprintpilotError):
    """The policy refuses the action; the message says why (shown to reviewers and audited)."""


class Refs(Protocol):
    """Scope checks a spec may ask of the policy for the gids (or `ref:`s) its params name."""

    def workspace(self, gid: str | None) -> None: ...

    def project(self, gid: str) -> None:
        """An existing in-scope project, or a `ref:` to a project this proposal creates."""
        ...

    def task(self, gid: str) -> None:
        """An existing in-scope task, or a `ref:` to a task this proposal creates."""
        ...

    def new_section(self, ref: str) -> None:
        """A `ref:` to a section this proposal creates (existing sections are checked by project)."""
        ...

    def portfolio(self, gid: str) -> None:
        """An existing in-scope portfolio, or a `ref:` to a portfolio this proposal creates (a
        portfolio *target* of an existing-portfolio kind still refuses refs, in `check_target`)."""
        ...

    def portfolio_project(self, portfolio_gid: str, project_gid: str) -> None: ...


@dataclass(frozen=True)
class WriteContext:
    """What a write needs besides its params: the writer, reads it may need (field maps), the
    run's workspace and the ledger key."""

    asana: AsanaWrites
    reads: AsanaReads
    workspace_gid: str
    allowed_project_gids: frozenset[str]
    key: str

    def marked(self, text: str) -> str:
        """Text carrying the short ledger marker the crash-window probe looks for."""
        return with_marker(text, self.key)


@dataclass(frozen=True)
class StaleOutcome:
    """A stale check's verdict that replaces the write: already done, or a conflict."""

    status: LedgerStatus
    message: str
    conflicts: list[dict[str, Any]]


class Unverifiable(SprintpilotError):
    """There is no way to tell whether an earlier attempt wrote; re-writing could duplicate."""


class ActionSpec(Generic[P]):
    """Base spec; each kind subclasses it once and overrides only what differs."""

    kind: ClassVar[ActionKind]
    params_model: ClassVar[type[Params]]
    target: ClassVar[TargetRule] = "task"
    creates: ClassVar[Creates | None] = None
    default_class: ClassVar[ApprovalClass] = ApprovalClass.NEEDS_APPROVAL
    # May `ref` names of this kind start with the reserved "__" (only the approval task's may).
    reserved_ref: ClassVar[bool] = False
    # Writes that pile up when repeated (comments, status updates, files, new tasks): one whose
    # facts were already applied is not written again (graphs/repeats.py). Field values and
    # links need no guard: their stale check already finds them "up to date".
    repeat_guarded: ClassVar[bool] = False

    # --- validation -----------------------------------------------------------------------------

    def parse(self, params: dict[str, Any]) -> P:
        try:
            return self.params_model.model_validate(params)  # type: ignore[return-value]
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in err.errors()
            )
            raise InvalidAction(f"invalid params for {self.kind.value}: {problems}") from None

    def target_rule(self, params: P) -> TargetRule:
        """What the action's target gid names (a few kinds decide by a param)."""
        return self.target

    def check_target(self, target: str, params: P, refs: Refs) -> None:
        """Scope of a present target; the default follows `target_rule`."""
        rule = self.target_rule(params)
        if rule == "task":
            refs.task(target)
        elif rule == "project":
            refs.project(target)
        elif rule == "portfolio":
            if target.startswith("ref:"):
                raise Denied(f"{self.kind.value} needs an existing portfolio gid")
            refs.portfolio(target)

    def check_params(self, params: P, refs: Refs, workspace_gid: str) -> None:
        """Scope of every gid or ref named inside the params (none by default)."""

    def before_keys(self, params: P) -> frozenset[str]:
        """The `before` values the stale check can read back (none by default)."""
        return frozenset()

    def check_before(self, before: dict[str, Any], params: P) -> None:
        # Field names are matched as Asana matches them: case-insensitively.
        known = {k.casefold() for k in self.before_keys(params)}
        unknown = {k for k in before if k.casefold() not in known}
        if unknown:
            raise Denied(f"before-values {sorted(unknown)} cannot be checked for {self.kind.value}")

    def classify(self, params: P, config: PolicyConfig) -> tuple[ApprovalClass, str] | None:
        """A class decided by the params (custom-field kinds); None → the kind's configured class."""
        return None

    # --- apply ----------------------------------------------------------------------------------

    def wanted(self, params: P) -> dict[str, Any] | None:
        """Field values the write leaves, for the generic stale/up-to-date check on the target task."""
        return None

    def stale(self, asana: AsanaReads, action: Action, target: str | None, params: P) -> StaleOutcome | None:
        """Compare `before` and the wanted values with Asana now: conflict, already done, or None."""
        wanted = self.wanted(params)
        if wanted is None or target is None:
            return None
        return outcome_of(*compare(asana.task(target), action.before, wanted))

    def write(self, w: WriteContext, target: str | None, params: P) -> str | None:
        """The Asana call(s); returns the gid of what was created, if anything."""
        raise NotImplementedError

    def after_create(self, w: WriteContext, gid: str, params: P) -> None:
        """Idempotent follow-up of a create (also run when the probe found the object)."""

    def probe(
        self, asana: AsanaReads, target: str | None, params: P, mark: str, workspace_gid: str
    ) -> str | None:
        """The gid an earlier attempt created, or None when nothing was written (or the write is
        idempotent and covered by the stale check)."""
        return None


def outcome_of(conflicts: list[FieldState], already: bool) -> StaleOutcome | None:
    if conflicts:
        names = ", ".join(c.field for c in conflicts)
        return StaleOutcome(
            LedgerStatus.CONFLICT,
            f"changed in Asana since the proposal: {names}",
            [c.model_dump(mode="json") for c in conflicts],
        )
    if already:
        return StaleOutcome(LedgerStatus.DONE, "already up to date", [])
    return None
