"""MCP resources: pending proposals, a proposal's actions, recent audit rows — for the session's
user only (a proposal acting in a project they cannot see is absent, as if it did not exist)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from mcp.server.mcpserver.exceptions import ResourceNotFoundError

from graphs.gate import action_numbers, action_requests_of
from prompts.loader import fence
from service.mcp.session import McpHost

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

AUDIT_ROWS = 50


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


def pending_json(host: McpHost) -> str:
    from service.approvals import pending

    with host.runtime() as rt:
        viewer = rt.viewer(host.person(rt))
        rows = [
            {
                "proposal_id": item.proposal.id,
                "agent": item.proposal.proposal.agent,
                "title": fence("title", item.proposal.proposal.title),
                "actions_waiting": len(action_requests_of(item.request)),
                "created_at": item.proposal.created_at,
                "approval_task_gid": item.request.get("approval_task_gid") or item.proposal.approval_task_gid,
            }
            for item in pending(rt)
            if all(viewer.sees(g) for g in item.proposal.proposal.scope.project_gids)
        ]
        return _json(rows)


def actions_json(host: McpHost, proposal_id: str) -> str:
    from graphs.runner import pending_interrupt
    from service.approvals import ApprovalError, find_proposal, graph_for, visible_to

    with host.runtime() as rt:
        person = host.person(rt)
        try:
            record = find_proposal(rt, proposal_id)
        except ApprovalError as err:
            raise ResourceNotFoundError(str(err)) from None
        if not visible_to(rt, person, record):
            raise ResourceNotFoundError(f"no proposal {proposal_id!r}; see `sprintpilot approvals list`")
        request = pending_interrupt(graph_for(rt, record.thread_id), record.thread_id) or {}
        waiting = dict(zip(action_numbers(request), action_requests_of(request), strict=True))
        actions = [
            {
                "number": n,
                "kind": a.kind.value,
                "target": a.target,
                "params": a.params,
                "reason": fence("reason", a.reason or ""),
                "waiting_for_approval": n in waiting,
            }
            for n, a in enumerate(record.proposal.actions, start=1)
        ]
        return _json({"proposal_id": record.id, "status": record.status.value, "actions": actions})


def audit_json(host: McpHost) -> str:
    from service.approvals import visible_to

    with host.runtime() as rt:
        viewer = rt.viewer(host.person(rt))
        seen: dict[str, bool] = {}

        def visible(pid: str | None) -> bool:
            # Rows about a proposal the user cannot see are left out; rows about none are the
            # service's own (sweeps, logins) and are not theirs to read either.
            if not pid:
                return False
            if pid not in seen:
                record = rt.repo.get_proposal(pid)
                seen[pid] = record is not None and visible_to(rt, viewer, record)
            return seen[pid]

        rows = [r for r in rt.audit.rows(limit=AUDIT_ROWS * 4) if visible(r.proposal_id)][:AUDIT_ROWS]
        return _json(
            [
                {
                    "ts_utc": r.ts_utc,
                    "actor": r.actor,
                    "event": r.event,
                    "outcome": r.outcome,
                    "proposal_id": r.proposal_id,
                    "action_index": r.action_index,
                    "target": r.target,
                    "reason": fence("reason", r.reason or "") if r.reason else None,
                }
                for r in rows
            ]
        )


def register(server: MCPServer[Any], host: McpHost) -> None:
    @server.resource(
        "sprintpilot://proposals/pending",
        name="pending_proposals",
        description="Proposals waiting for approval that you can see.",
        mime_type="application/json",
    )
    async def pending_proposals() -> str:
        return await anyio.to_thread.run_sync(pending_json, host)

    @server.resource(
        "sprintpilot://proposals/{proposal_id}/actions",
        name="proposal_actions",
        description="A proposal's actions and which of them wait for approval.",
        mime_type="application/json",
    )
    async def proposal_actions(proposal_id: str) -> str:
        return await anyio.to_thread.run_sync(actions_json, host, proposal_id)

    @server.resource(
        "sprintpilot://audit/recent",
        name="recent_audit",
        description="The latest audit rows about proposals you can see.",
        mime_type="application/json",
    )
    async def recent_audit() -> str:
        return await anyio.to_thread.run_sync(audit_json, host)
