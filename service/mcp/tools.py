"""The work behind each MCP tool (synchronous: the server runs it on a worker thread).

Read tools call `graphs.chat.tools.run_tool` (validate against the args model, scope check as the
user, project-kind check, the specialist's compute) and drop the proposal. Proposal tools start a
run on a new thread through the supervisor graph, as `service/cli/run_agent.py` does, under the
team's own policy (the same automatic/approval classes as every other trigger); the answer says
where to approve. Approving over MCP (off by
default) goes through `service.approvals.decide`, the one decision path.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from mcp.server.mcpserver.exceptions import ToolError

from graphs.chat.resolve import ChatError
from graphs.chat.tools import check_scope, run_tool
from graphs.gate import action_numbers, action_requests_of
from graphs.runner import start_run
from graphs.visibility import Person
from prompts.loader import fence
from service.mcp.answers import (
    ApproveAt,
    DecisionAnswer,
    ProposalAnswer,
    ProposedAction,
    ReadAnswer,
    SearchAnswer,
    SearchHit,
    TextEstimate,
    fenced_summary,
    numbers,
)
from service.mcp.catalog import McpTool
from service.mcp.session import McpHost
from service.runtime import Runtime
from tools.errors import SprintpilotError, UserError


def _user_error(err: Exception) -> ToolError:
    return ToolError(" ".join(str(err).split()) or type(err).__name__)


def run_read(host: McpHost, tool: McpTool, arguments: dict[str, Any]) -> ReadAnswer:
    with host.call() as (rt, person, ctx):
        try:
            proposal = run_tool(tool.specialist, arguments, ctx)
        except (ChatError, UserError, LookupError, ValueError) as err:
            raise _user_error(err) from None
        return ReadAnswer(
            tool=tool.name,
            agent=proposal.agent,
            title=fence("title", proposal.title),
            summary=fenced_summary(proposal.summary_markdown),
            evidence=numbers(proposal.evidence),
            changes_it_would_propose=len(proposal.actions),
            engine=proposal.model,
        )


def _task_url(rt: Runtime, gid: str) -> str | None:
    # A link only where people open tasks in a browser (real Asana); the sandbox has no task pages.
    return f"https://app.asana.com/0/0/{gid}" if "app.asana.com" in rt.asana.base_url else None


def approve_at(rt: Runtime, proposal_id: str, approval_task_gid: str | None) -> ApproveAt:
    base = rt.settings.public_url.rstrip("/")
    return ApproveAt(
        asana_task_gid=approval_task_gid,
        asana_task_url=_task_url(rt, approval_task_gid) if approval_task_gid else None,
        console_url=f"{base}/proposals/{proposal_id}",
        cli=f"sprintpilot approvals approve {proposal_id[:12]}",
        mcp="approve_proposal" if rt.settings.mcp_approvals else None,
    )


def run_proposal(host: McpHost, tool: McpTool, arguments: dict[str, Any]) -> ProposalAnswer:
    from service.approvals import supersede_older

    with host.call() as (rt, person, ctx):
        try:
            args = tool.specialist.validate(arguments)
            check_scope(args, ctx)  # before the run: an invisible project is "not found" here
        except (ChatError, UserError, LookupError) as err:
            raise _user_error(err) from None
        workspace = rt.resolve_workspace(args.get("workspace"))
        project = args.get("project") if isinstance(args.get("project"), str) else None
        ctx = host.context(rt, person, approver_gid=rt.approver_for(workspace, project))
        thread_id = f"mcp-{uuid.uuid4().hex[:12]}"
        request = {
            "agent": tool.specialist.name,
            "args": args,
            "trigger": "mcp",
            "trigger_info": {"surface": host.surface, "user": person.label},
        }
        outcome = start_run(rt.graph, ctx, thread_id, request)
        if outcome.status == "error":
            raise ToolError(str((outcome.report or {}).get("error") or "the run failed"))
        if outcome.status == "awaiting_approval":
            supersede_older(rt, thread_id)
        waiting = outcome.interrupt or {}
        pid = str(waiting.get("proposal_id") or (outcome.report or {}).get("proposal_id") or "") or None
        record = rt.repo.get_proposal(pid) if pid else None
        actions = [
            ProposedAction(
                number=n,
                kind=str(req.get("name")),
                target=str((req.get("args") or {}).get("target") or "") or None,
                description=fence("action", req.get("description") or ""),
            )
            for n, req in zip(action_numbers(waiting), action_requests_of(waiting), strict=True)
        ]
        status: Literal["awaiting_approval", "done", "no_changes"] = (
            "awaiting_approval" if outcome.status == "awaiting_approval" else "no_changes"
        )
        if status == "no_changes" and record is not None and record.proposal.actions:
            status = "done"
        body = record.proposal if record is not None else None
        gid = waiting.get("approval_task_gid") or (record.approval_task_gid if record else None)
        quiet = (body.evidence.get("quiet") if body is not None else None) or {}
        earlier = str(quiet.get("waiting_proposal") or "") or None
        return ProposalAnswer(
            tool=tool.name,
            agent=tool.specialist.name,
            proposal_id=pid,
            status=status,
            title=fence("title", body.title if body else ""),
            summary=fenced_summary(body.summary_markdown if body else ""),
            actions=actions,
            approve_at=_approve_where(rt, pid, gid, status, earlier),
            already_waiting=earlier if status != "awaiting_approval" else None,
        )


def _approve_where(
    rt: Runtime, pid: str | None, gid: Any, status: str, earlier: str | None
) -> ApproveAt | None:
    """Where to decide: this proposal when it waits, else the earlier one that already says it all."""
    if pid and status == "awaiting_approval":
        return approve_at(rt, pid, str(gid) if gid else None)
    if earlier:
        record = rt.repo.get_proposal(earlier)
        return approve_at(rt, earlier, record.approval_task_gid if record is not None else None)
    return None


def backlog_search(
    host: McpHost, project: str, query: str, include_completed: bool, limit: int
) -> SearchAnswer:
    with host.call() as (rt, person, ctx):
        try:
            check_scope({"project": project}, ctx)
            found = ctx.asana.find_project(ctx.resolve_workspace(), project)
            tasks = ctx.asana.project_tasks(found.gid)
        except (ChatError, UserError, LookupError) as err:
            raise _user_error(err) from None
        words = [w for w in query.casefold().split() if w]
        hits = [
            t
            for t in tasks
            if (include_completed or not t.completed)
            and all(w in f"{t.name or ''}\n{t.notes or ''}".casefold() for w in words)
        ]
        return SearchAnswer(
            project=found.gid,
            query=query,
            hits=[
                SearchHit(
                    gid=t.gid,
                    name=fence("task", t.name or ""),
                    completed=bool(t.completed),
                    assignee=t.assignee.gid if t.assignee else None,
                    due_on=str(t.due_on) if t.due_on else None,
                )
                for t in hits[:limit]
            ],
            more=max(0, len(hits) - limit),
        )


def estimate_text(host: McpHost, project: str, title: str, description: str) -> TextEstimate:
    """A story-point estimate of text that is not in Asana yet, from the backlog's finished tasks
    (the triage agent's estimator and its per-project index)."""
    from agents.triage.args import TriageArgs
    from agents.triage.index import ESTIMATOR_CACHE
    from agents.triage.inputs import read_triage_inputs, story_points

    with host.call() as (rt, person, ctx):
        try:
            check_scope({"project": project}, ctx)
            inputs = read_triage_inputs(ctx.asana, ctx.resolve_workspace(), TriageArgs(project=project))
        except (ChatError, UserError, LookupError, ValueError) as err:
            raise _user_error(err) from None
        history = [(t, p) for t in inputs.history if (p := story_points(t))]
        if not history:
            raise ToolError("no finished tasks with story points in this project to estimate from")
        key = (str(getattr(ctx.asana, "base_url", "")), inputs.project.gid)
        est = ESTIMATOR_CACHE.index_for(key, history).estimate(title, description)
        return TextEstimate(
            project=inputs.project.gid,
            points=est.points,
            low=est.low,
            high=est.high,
            confidence=est.confidence,
            method=est.method,
            similar=[
                {"gid": n.id, "title": fence("task", n.title), "points": n.points, "similarity": n.similarity}
                for n in est.neighbours[:5]
            ],
            history_size=len(history),
        )


# --- approving over MCP (SPRINTPILOT_MCP_APPROVALS) ---------------------------------------------


def _visible_record(rt: Runtime, person: Person, proposal_id: str) -> Any:
    from service.approvals import ApprovalError, find_proposal, visible_to

    try:
        record = find_proposal(rt, proposal_id)
    except ApprovalError as err:
        raise _user_error(err) from None
    if not visible_to(rt, person, record):
        # The same answer as a proposal that does not exist.
        raise ToolError(f"no proposal {proposal_id!r}; see `sprintpilot approvals list`")
    return record


def confirmation_text(host: McpHost, proposal_id: str, decision: str) -> str:
    """What the person is asked to confirm (an elicitation, shown by their MCP client)."""
    from service.approvals import ApprovalError, pending_request

    with host.runtime() as rt:
        person = host.person(rt)
        record = _visible_record(rt, person, proposal_id)
        try:
            request = pending_request(rt, record)
        except ApprovalError as err:
            raise _user_error(err) from None
        count = len(action_requests_of(request))
        return (
            f"{decision.capitalize()} all {count} waiting action(s) of proposal {record.id[:12]} "
            f"({record.proposal.agent}: {' '.join(record.proposal.title.split())[:120]}) as "
            f"{host.decider(person)}?"
        )


def decide_over_mcp(
    host: McpHost, proposal_id: str, decision: Literal["approve", "reject"], reason: str | None
) -> DecisionAnswer:
    from service.approvals import ApprovalError, build_decisions, decide, pending_request

    with host.runtime() as rt:
        person = host.person(rt)
        host.charge(person)
        record = _visible_record(rt, person, proposal_id)
        decided_by = host.decider(person)
        try:
            request = pending_request(rt, record)
            decisions = build_decisions(request, reject_all=decision == "reject", message=reason)
            outcome = decide(rt, record, decisions, decided_by, request.get("digest"))
        except (ApprovalError, SprintpilotError) as err:
            raise _user_error(err) from None
        report = outcome.report or {}
        return DecisionAnswer(
            proposal_id=record.id,
            decided_by=decided_by,
            status=str(report.get("status") or outcome.status),
            report=fence("report", report.get("markdown") or ""),
        )
