"""The offline supervisor: a parsed command → the specialist tool call a model would have made,
and tool results → a plain answer. Names are resolved here (Asana reads) with clear errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphs.chat.grammar import AgentCommand, DecisionCommand
from graphs.chat.resolve import ChatError, Resolver
from graphs.chat.tools import SpecialistTool
from graphs.gate import action_numbers, action_requests_of, number_ranges

if TYPE_CHECKING:
    from graphs.context import RunContext


def command_args(cmd: AgentCommand, tool: SpecialistTool, ctx: RunContext) -> dict[str, Any]:
    """Specialist args for a command, with projects and tasks resolved to in-scope gids.

    What the target names and which args field it fills come from the specialist's declaration
    (`cmd.expects`, chosen by the grammar); so do the options and the args they imply.
    """
    if cmd.raw_args is not None:
        return dict(cmd.raw_args)
    args: dict[str, Any] = {}
    target, expects = cmd.target, cmd.expects
    if target is not None and expects.field is not None and expects.kind == "portfolio":
        args[expects.field] = target  # portfolios are resolved by the specialist (not projects)
    elif target is not None and expects.field is not None:
        resolver = Resolver(ctx)
        if expects.kind == "projects":
            args[expects.field] = [resolver.project(p) for p in target.split(",") if p.strip()]
        elif expects.kind == "task":
            task = resolver.task(target)
            args[expects.field] = task
            if expects.task_projects is not None:
                projects = resolver.task_projects(task)
                if not projects:
                    raise ChatError(f"task {target!r} is in no project this chat may use")
                args[expects.task_projects] = projects
        else:
            args[expects.field] = resolver.project(target)
    for opt in cmd.given:
        args.update(dict(opt.sets))
        args[opt.field] = cmd.options[opt.field]
    return args


def decisions_for(cmd: DecisionCommand, request: dict[str, Any]) -> list[dict[str, Any]]:
    """One HITL decision per action request, by action number as the approval card shows them."""
    requests = action_requests_of(request)
    numbers = action_numbers(request)
    for n in cmd.numbers:
        if n not in numbers:
            raise ChatError(
                f"action number {n} is out of range: the actions waiting for approval are "
                f"{number_ranges(numbers)}; type `show` to see them"
            )
    chosen = set(cmd.numbers)
    out: list[dict[str, Any]] = []
    for n, req in zip(numbers, requests, strict=True):
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
        if art.get("lookup"):  # a read-only tool (list_projects): its answer as it is
            parts.append(str(art.get("summary_markdown") or ""))
            continue
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
