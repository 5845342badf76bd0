"""The feedback store: people telling sprintpilot it was wrong, linked to the prediction concerned.

Table `feedback` (migration 0009), one row per piece of feedback, idempotent by `source_key`
(the same event or decision handled twice stores one row):

| column | meaning |
|---|---|
| id | row id |
| source_key | where it came from, unique: `story:<gid>` (a reply or field change in Asana), |
| | or `decision:<proposal id>:<action index>` (a rejection) |
| kind | thumbs_down_comment, wrong_comment, field_corrected, action_rejected |
| verdict | correction, false_alarm, miss, disagree, rejected (tools/feedback/classify.py) |
| agent | the agent whose prediction it concerns (the proposal's), when known |
| proposal_id, action_index, action_kind | the proposal action it concerns, when known |
| task_gid, project_gid | the Asana task (and its project) it is about |
| field | the custom field concerned (a field change; "Estimated Story Points" for a points correction) |
| predicted, corrected | JSON: the value sprintpilot predicted, and the value the person gave |
| user_gid | the Asana user who gave it (None for a decision on a surface without a gid) |
| actor | who as the surface names them (`asana:<gid>`, `cli:po`, …) |
| text | what the person wrote: **untrusted**, stored as data, never executed |
| created_at | when it was given (the story's or decision's time, UTC) |
| recorded_at | when it was stored |

Readers (the live accuracy scorecard, the rules in tools/feedback) use `SqlFeedback.items`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, CheckConstraint, Engine, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from agents.proposal import DecisionType
from graphs.approvers import bare_identity, surface_of
from service.db.engine import dialect_insert, read_session, write_session
from service.db.models import Base, DecisionRow, LedgerRow, ProposalRow, UTCDateTime, utcnow
from tools.feedback.models import DecisionOutcome, FeedbackItem, FeedbackKind, Verdict

log = logging.getLogger(__name__)

TEXT_LIMIT = 4000  # a reply is short; a pasted novel is cut, never interpreted
KINDS = tuple(k.value for k in FeedbackKind)
# Decisions by these surfaces are not a person's feedback (expiry, supersession, sweeps).
NOT_PEOPLE = frozenset({"system"})


class FeedbackRow(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("kind IN ({})".format(", ".join(f"'{k}'" for k in KINDS)), name="kind"),
        Index(None, "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    verdict: Mapped[str] = mapped_column(String(32))
    agent: Mapped[str | None] = mapped_column(String(64))
    proposal_id: Mapped[str | None] = mapped_column(String(64), index=True)
    action_index: Mapped[int | None] = mapped_column(Integer)
    action_kind: Mapped[str | None] = mapped_column(String(64))
    task_gid: Mapped[str | None] = mapped_column(String(64), index=True)
    project_gid: Mapped[str | None] = mapped_column(String(64))
    field: Mapped[str | None] = mapped_column(String(200))
    predicted: Mapped[Any] = mapped_column(JSON, nullable=True)
    corrected: Mapped[Any] = mapped_column(JSON, nullable=True)
    user_gid: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def waiting_indexes(actions: list[dict[str, Any]]) -> list[int]:
    """Proposal action index of each stored decision: the gate stores one decision per action that
    waited for approval, numbered 0.. in proposal order (graphs/gate.py)."""
    return [i for i, a in enumerate(actions) if a.get("approval_class") == "needs_approval"]


def _item(row: FeedbackRow) -> FeedbackItem:
    return FeedbackItem(
        kind=FeedbackKind(row.kind),
        verdict=Verdict(row.verdict),
        created_at=row.created_at,
        agent=row.agent,
        proposal_id=row.proposal_id,
        action_index=row.action_index,
        action_kind=row.action_kind,
        task_gid=row.task_gid,
        project_gid=row.project_gid,
        field=row.field,
        predicted=row.predicted,
        corrected=row.corrected,
        user_gid=row.user_gid,
        actor=row.actor,
        text=row.text,
    )


class SqlFeedback:
    """Records feedback (idempotent) and reads it back; `tools.feedback.models.FeedbackSource`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, source_key: str, item: FeedbackItem) -> bool:
        """Store `item` unless `source_key` is stored already; True when a row was added."""
        values = item.model_dump(mode="python")
        values["kind"] = item.kind.value
        values["verdict"] = item.verdict.value
        values["text"] = None if item.text is None else item.text[:TEXT_LIMIT]
        values["predicted"] = item.model_dump(mode="json")["predicted"]
        values["corrected"] = item.model_dump(mode="json")["corrected"]
        with write_session(self.engine) as session:
            added = session.execute(
                dialect_insert(session)(FeedbackRow)
                .values(source_key=source_key[:200], recorded_at=utcnow(), **values)
                .on_conflict_do_nothing(index_elements=["source_key"])
                .returning(FeedbackRow.id)
            ).first()
            return added is not None

    def items(
        self,
        *,
        since: datetime,
        task_gids: Collection[str] | None = None,
        kinds: Collection[FeedbackKind] | None = None,
    ) -> list[FeedbackItem]:
        """Feedback given since `since`, oldest first; optionally about some tasks or of some kinds."""
        stmt = select(FeedbackRow).where(FeedbackRow.created_at >= since)
        if task_gids is not None:
            gids = list(task_gids)
            if not gids:
                return []
            stmt = stmt.where(FeedbackRow.task_gid.in_(gids))
        if kinds is not None:
            stmt = stmt.where(FeedbackRow.kind.in_([FeedbackKind(k).value for k in kinds]))
        with read_session(self.engine) as session:
            rows = session.scalars(stmt.order_by(FeedbackRow.created_at, FeedbackRow.id))
            return [_item(r) for r in rows]

    def count(self) -> int:
        with read_session(self.engine) as session:
            return len(session.scalars(select(FeedbackRow.id)).all())

    # ---- decisions (read from the proposals and decisions tables) ----------------------------

    def decision_outcomes(self, *, since: datetime, project_gids: Collection[str]) -> list[DecisionOutcome]:
        """Per proposal decided by a person since `since` in any of `project_gids`, one outcome per
        action kind: rejected when every action of that kind was rejected (a reject-all of a big
        plan counts once per kind, not once per task)."""
        wanted = set(project_gids)
        stmt = select(
            DecisionRow.proposal_id,
            DecisionRow.action_index,
            DecisionRow.type,
            DecisionRow.decided_by,
            DecisionRow.created_at,
        ).where(DecisionRow.created_at >= since)
        per: dict[tuple[str, str], dict[str, Any]] = {}
        with read_session(self.engine) as session:
            rows = [r for r in session.execute(stmt) if surface_of(r.decided_by) not in NOT_PEOPLE]
            # Each proposal's body is read once, however many of its actions were decided.
            ids = sorted({r.proposal_id for r in rows})
            bodies: dict[str, dict[str, Any]] = {}
            if ids:
                found = session.execute(
                    select(ProposalRow.id, ProposalRow.body).where(ProposalRow.id.in_(ids))
                )
                bodies = {pid: body for pid, body in found}
        shape: dict[str, tuple[tuple[str, ...], list[str]]] = {}  # proposal → (scope, waiting kinds)
        for pid, body in bodies.items():
            actions = body.get("actions") or []
            scope = tuple((body.get("scope") or {}).get("project_gids") or ())
            shape[pid] = (scope, [str(actions[i].get("kind")) for i in waiting_indexes(actions)])
        for pid, index, kind, _who, at in rows:
            scope, waiting = shape.get(pid, ((), []))
            if (wanted and not wanted & set(scope)) or not 0 <= index < len(waiting):
                continue
            action_kind = waiting[index]
            slot = per.setdefault((pid, action_kind), {"scope": scope, "rejected": True, "at": at})
            slot["rejected"] = slot["rejected"] and kind == DecisionType.REJECT.value
            slot["at"] = max(slot["at"], at)
        return [
            DecisionOutcome(
                proposal_id=pid,
                project_gids=s["scope"],
                action_kind=k,
                rejected=s["rejected"],
                decided_at=s["at"],
            )
            for (pid, k), s in per.items()
        ]

    def record_rejections(self, repo: Any, proposal_id: str) -> int:
        """Store each action a person rejected on `proposal_id`, with its reason (the hook in
        `service.approvals.decide`, which every surface goes through). Reads the decisions the gate
        stored, so a refused or retried decision records nothing new. Returns rows added."""
        detail = repo.get_proposal(proposal_id)
        if detail is None:
            return 0
        proposal = detail.proposal
        waiting = waiting_indexes(proposal.model_dump(mode="json")["actions"])
        added = 0
        for d in detail.decisions:
            if d.type != DecisionType.REJECT.value or surface_of(d.decided_by) in NOT_PEOPLE:
                continue
            if not 0 <= d.action_index < len(waiting):
                continue
            index = waiting[d.action_index]
            action = proposal.actions[index]
            who = bare_identity(d.decided_by)
            item = FeedbackItem(
                kind=FeedbackKind.ACTION_REJECTED,
                verdict=Verdict.REJECTED,
                created_at=d.created_at,
                agent=proposal.agent,
                proposal_id=proposal.id,
                action_index=index,
                action_kind=action.kind.value,
                task_gid=action.target if action.target and action.target.isdigit() else None,
                project_gid=proposal.scope.project_gids[0] if proposal.scope.project_gids else None,
                field=str(action.params.get("field")) if action.params.get("field") else None,
                predicted=action.after if action.after is not None else action.params,
                user_gid=who if who.isdigit() else None,
                actor=d.decided_by,
                text=d.message,
            )
            added += self.record(f"decision:{proposal.id}:{index}", item)
        return added


class Origin(BaseModel):
    """The proposal action a piece of feedback concerns (found through the action ledger)."""

    proposal_id: str
    action_index: int
    action_kind: str
    agent: str
    project_gid: str | None = None
    value: Any = None  # what the action wrote (a field's value); None for a comment


def _origin(body: dict[str, Any], proposal_id: str, index: int) -> Origin | None:
    actions = body.get("actions") or []
    if not 0 <= index < len(actions):
        return None
    action = actions[index]
    projects = (body.get("scope") or {}).get("project_gids") or []
    params = action.get("params") or {}
    return Origin(
        proposal_id=proposal_id,
        action_index=index,
        action_kind=str(action.get("kind")),
        agent=str(body.get("agent") or ""),
        project_gid=projects[0] if projects else None,
        value=params.get("value"),
    )


def comment_origin(engine: Engine, task_gid: str, story_gid: str) -> Origin | None:
    """The proposal action that posted comment `story_gid` on `task_gid` (the ledger keeps the
    created story's gid), else the proposal whose approval task `task_gid` is."""
    stmt = (
        select(LedgerRow.proposal_id, LedgerRow.action_index, LedgerRow.result, ProposalRow.body)
        .join(ProposalRow, ProposalRow.id == LedgerRow.proposal_id)
        .where(LedgerRow.kind == "post_comment", LedgerRow.target == task_gid)
    )
    with read_session(engine) as session:
        for pid, index, result, body in session.execute(stmt):
            if (result or {}).get("gid") == story_gid:
                return _origin(body, pid, index)
        row = session.scalars(select(ProposalRow).where(ProposalRow.approval_task_gid == task_gid)).first()
        if row is not None:
            return Origin(
                proposal_id=row.id,
                action_index=-1,
                action_kind="create_approval_task",
                agent=row.agent,
                project_gid=((row.body.get("scope") or {}).get("project_gids") or [None])[0],
            )
    return None


def field_origin(engine: Engine, task_gid: str, field: str, *, look_back: int = 20) -> Origin | None:
    """The newest applied proposal action that set `field` on `task_gid`."""
    folded = field.strip().casefold()
    stmt = (
        select(LedgerRow.proposal_id, LedgerRow.action_index, ProposalRow.body)
        .join(ProposalRow, ProposalRow.id == LedgerRow.proposal_id)
        .where(LedgerRow.kind == "set_custom_field", LedgerRow.target == task_gid, LedgerRow.status == "done")
        .order_by(LedgerRow.updated_at.desc())
        .limit(look_back)
    )
    with read_session(engine) as session:
        for pid, index, body in session.execute(stmt):
            origin = _origin(body, pid, index)
            actions = body.get("actions") or []
            name = str(((actions[index] if origin else {}).get("params") or {}).get("field") or "")
            if origin is not None and name.strip().casefold() == folded:
                return origin
    return None


def record_rejections(engine: Engine, repo: Any, proposal_id: str) -> int:
    """`SqlFeedback.record_rejections`, never failing the decision it follows (logged instead)."""
    try:
        return SqlFeedback(engine).record_rejections(repo, proposal_id)
    except Exception:  # noqa: BLE001 - feedback is a by-product; the decision stands
        log.exception("could not record the rejections of proposal %s as feedback", proposal_id)
        return 0
