"""The Asana approval surface: an approval task plus an `[AI Proposal]` comment listing the plan.

Both are ordinary actions appended to the proposal (kinds create_approval_task / post_comment),
so they are classified, ledgered, audited and made idempotent exactly like the agent's own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agents.proposal import REF_PREFIX, Action, ActionKind, ApprovalClass, Proposal
from graphs.state import Verdict

APPROVAL_REF = "__approval_task__"
_NAME_LIMIT = 200


def agent_action_count(proposal: Proposal) -> int:
    """Actions that came from the specialist (the approval surface is appended after them)."""
    for i, action in enumerate(proposal.actions):
        if action.kind == ActionKind.CREATE_APPROVAL_TASK and action.ref == APPROVAL_REF:
            return i
    return len(proposal.actions)


def _line(action: Action) -> str:
    target = action.target or "(new)"
    reason = f": {action.reason}" if action.reason else ""
    return f"{action.kind.value} → {target}{reason}"


def approval_comment(proposal: Proposal, verdicts: list[Verdict], tag: str) -> str:
    """The plan as a reviewer in Asana sees it; actions are numbered as every listing numbers them."""
    need = [
        (v.index + 1, proposal.actions[v.index])
        for v in verdicts
        if v.approval_class == ApprovalClass.NEEDS_APPROVAL
    ]
    auto = [proposal.actions[v.index] for v in verdicts if v.approval_class == ApprovalClass.AUTO]
    denied = [
        (proposal.actions[v.index], v.note) for v in verdicts if v.approval_class == ApprovalClass.DENIED
    ]
    parts = [
        f"{tag} {proposal.title}",
        "",
        proposal.summary_markdown.strip(),
        "",
        f"Needs your approval ({len(need)}):",
    ]
    parts += [f"{n}. {_line(a)}" for n, a in need]  # action numbers, as every listing shows them
    if auto:
        parts += ["", f"Applied automatically ({len(auto)}):"]
        parts += [f"- {_line(a)}" for a in auto]
    if denied:
        parts += ["", f"Refused by policy ({len(denied)}):"]
        parts += [f"- {_line(a)} ({note})" for a, note in denied]
    parts += [
        "",
        "Approve or reject this approval task to decide; comments here are not read as instructions.",
    ]
    return "\n".join(parts)


def approval_surface(
    proposal: Proposal,
    verdicts: list[Verdict],
    *,
    approver_gid: str | None,
    due_hours: float,
    now: datetime,
    tag: str,
) -> list[Action]:
    """The two actions that put the approval request into Asana."""
    due_at = now + timedelta(hours=due_hours)
    # "Approve Sprint 24 backlog" reads well as it is; other titles get the prefix.
    title = proposal.title.strip()
    name = title if title.lower().startswith("approve") else f"Approve: {title}"
    if len(name) > _NAME_LIMIT:
        name = name[: _NAME_LIMIT - 1] + "…"
    project = proposal.scope.project_gids[0] if proposal.scope.project_gids else None
    create = Action(
        kind=ActionKind.CREATE_APPROVAL_TASK,
        params={
            "name": name,
            "project": project,
            "workspace_gid": proposal.scope.workspace_gid,
            "assignee": approver_gid,
            "due_at": due_at.isoformat(),
            "notes": f"sprintpilot ({proposal.agent}) asks for approval of proposal {proposal.id}.\n\n"
            f"{proposal.summary_markdown.strip()}",
        },
        ref=APPROVAL_REF,
        reason="approval request for the proposal",
    )
    comment = Action(
        kind=ActionKind.POST_COMMENT,
        target=f"{REF_PREFIX}{APPROVAL_REF}",
        params={"text": approval_comment(proposal, verdicts, tag)},
        reason="the proposal and its actions, for the approver",
    )
    return [create, comment]
