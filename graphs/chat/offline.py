"""The offline supervisor: a parsed command → the specialist tool call a model would have made,
and tool results → a plain answer. Names are resolved here (Asana reads) with clear errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphs.chat.grammar import AgentCommand, DecisionCommand
from graphs.chat.resolve import ChatError, Resolver
from graphs.chat.tools import SpecialistTool

if TYPE_CHECKING:
    from graphs.context import RunContext


def _field(tool: SpecialistTool, *candidates: str) -> str | None:
    """The first of `candidates` that the specialist's args model has (any, without a model)."""
    if tool.args_model is None:
        return candidates[0]
    fields = tool.args_model.model_fields
    return next((c for c in candidates if c in fields), None)


def command_args(cmd: AgentCommand, tool: SpecialistTool, ctx: RunContext) -> dict[str, Any]:
    """Specialist args for a command, with projects and tasks resolved to in-scope gids."""
    if cmd.raw_args is not None:
        return dict(cmd.raw_args)
    resolver = Resolver(ctx)
    target = cmd.target
    args: dict[str, Any] = {}
    if cmd.agent == "planner":
        assert target is not None
        args["project"] = resolver.project(target)
        args.update(cmd.options)
    elif cmd.agent == "dependencies" and cmd.verb == "risk":
        assert target is not None
        task = resolver.task(target)
        projects = resolver.task_projects(task)
        if not projects:
            raise ChatError(f"task {target!r} is in no project this chat may use")
        args.update(task=task, projects=projects)
        if "days" in cmd.options:
            args.update(trigger="manual", days=cmd.options["days"])
    elif cmd.agent == "dependencies":
        assert target is not None
        args["projects"] = [resolver.project(p) for p in target.split(",") if p.strip()]
    elif cmd.agent == "triage":
        assert target is not None
        if cmd.options.get("mode") == "project":
            args["project"] = resolver.project(target)
        else:
            args["task"] = resolver.task(target)
    elif cmd.agent == "qa":
        assert target is not None
        args["task"] = resolver.task(target)
    elif target is not None:
        # standup, retro, forecast, health and any later specialist taking a project/portfolio.
        key = (
            _field(tool, "portfolio", "project", "projects")
            if cmd.agent == "health"
            else _field(tool, "project", "projects", "portfolio")
        )
        if key is None:
            raise ChatError(f"{cmd.agent} takes no project; use `run {cmd.agent} {{json}}`")
        if key == "portfolio":
            args[key] = target  # portfolios are resolved by the specialist (not projects)
        else:
            gid = resolver.project(target)
            args[key] = [gid] if key == "projects" else gid
    return args


def decisions_for(cmd: DecisionCommand, request: dict[str, Any]) -> list[dict[str, Any]]:
    """One HITL decision per action request, numbered from 1 as the approval card shows them."""
    requests = request.get("action_requests") or []
    count = len(requests)
    for n in cmd.numbers:
        if not 1 <= n <= count:
            raise ChatError(f"action number {n} is out of range 1..{count}; type `show` to see them")
    chosen = set(cmd.numbers)
    out: list[dict[str, Any]] = []
    for n, req in enumerate(requests, 1):
        if cmd.type == "edit" and n in chosen:
            assert cmd.edit is not None
            args = dict(req.get("args") or {})
            params = dict(args.get("params") or {})
            params.update(cmd.edit.get("params") or {})
            args["params"] = params
            if "target" in cmd.edit:
                args["target"] = cmd.edit["target"]
            out.append({"type": "edit", "edited_action": {"name": req["name"], "args": args}})
        elif cmd.type == "reject" and (not chosen or n in chosen):
            out.append({"type": "reject", "message": cmd.message or "rejected in chat"})
        elif cmd.type == "approve" and chosen and n not in chosen:
            out.append({"type": "reject", "message": "not approved in chat"})
        else:
            out.append({"type": "approve"})
    return out


def answer_from_results(artifacts: list[dict[str, Any]], errors: list[str]) -> str:
    """The offline answer: each specialist's title, summary and outcome, as they reported them."""
    parts: list[str] = []
    for art in artifacts:
        status = str(art.get("status") or "").replace("_", " ")
        parts.append(
            f"### {art.get('title')} ({art.get('agent')})\n\n{(art.get('summary_markdown') or '').strip()}"
        )
        if art.get("report_markdown"):
            parts.append(f"**Outcome:** {status}\n\n{art['report_markdown']}")
        else:
            parts.append("No Asana changes were needed.")
    parts += [f"**Error:** {e}" for e in errors]
    return "\n\n".join(parts) or "Nothing to report."
