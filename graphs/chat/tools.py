"""Every registered specialist as a tool the chat supervisor can call.

The tool list is derived from the registry, so a specialist registered later appears without
changes here. A tool call never writes to Asana: it runs the specialist (reads + compute) and
returns its Proposal, which the chat graph then sends through policy → publish → gate → apply.
Arguments come from the model, so they are validated against the specialist's declared
`args_model` (which also gives the tool's JSON schema), and the projects/tasks they name are
checked against the allowed scope before the specialist runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from agents.proposal import Proposal
from graphs.chat.digest import digest, result_cap
from graphs.chat.resolve import ChatError, Resolver
from graphs.project_kind import check_project_kind
from graphs.registry import Specialist, SpecialistRegistry
from tools.errors import UserError

if TYPE_CHECKING:
    from graphs.context import RunContext

PROJECT_KEYS = ("project", "projects", "portfolio")
TASK_KEYS = ("task", "tasks")


@dataclass(frozen=True)
class SpecialistTool:
    name: str
    description: str
    spec: Specialist
    args_model: type[BaseModel]

    def parameters(self) -> dict[str, Any]:
        """The JSON schema of the specialist's declared args model."""
        schema = self.args_model.model_json_schema()
        schema.pop("title", None)
        return schema

    def openai_schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters()},
        }

    def validate(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise ChatError(f"{self.name}: arguments must be an object")
        try:
            return self.args_model.model_validate(raw).model_dump(mode="json", exclude_none=True)
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'args'}: {e['msg']}" for e in err.errors()[:5]
            )
            raise ChatError(f"{self.name}: invalid arguments: {problems}") from None


def specialist_tools(registry: SpecialistRegistry) -> list[SpecialistTool]:
    return [SpecialistTool(s.name, s.description, s, s.args_model) for s in registry]


def check_scope(args: dict[str, Any], ctx: RunContext) -> None:
    """Refuse a call naming a project or task outside the allowed scope (before any read)."""
    resolver = Resolver(
        ctx, workspace=args.get("workspace") if isinstance(args.get("workspace"), str) else None
    )
    resolver.check_workspace()
    for key in PROJECT_KEYS:
        value = args.get(key)
        for ref in value if isinstance(value, list) else [value] if isinstance(value, str) else []:
            if key == "portfolio":
                continue  # portfolios are not projects; the policy still checks every write target
            resolver.project(ref)
    for key in TASK_KEYS:
        value = args.get(key)
        for ref in value if isinstance(value, list) else [value] if isinstance(value, str) else []:
            resolver.task(ref)


def run_tool(tool: SpecialistTool, raw_args: Any, ctx: RunContext) -> Proposal:
    """Validate, scope-check and run one specialist call; ChatError for anything the caller did wrong."""
    args = tool.validate(raw_args)
    check_scope(args, ctx)
    try:
        check_project_kind(tool.spec, dict(args), ctx)
        proposal = tool.spec.run(dict(args), ctx)
    except ChatError:
        raise
    except (LookupError, ValueError, UserError) as err:
        raise ChatError(f"{tool.name}: {err}") from None
    return proposal if isinstance(proposal, Proposal) else Proposal.model_validate(proposal)


def tool_result_text(
    proposal: dict[str, Any], report: dict[str, Any] | None, verdicts: list[dict[str, Any]] | None = None
) -> str:
    """What the supervisor model reads back: a compact digest under the tool's cap (graphs/chat/
    digest.py); numbers as JSON, Asana-derived text fenced as data, no images or id tables."""
    return digest(proposal, report, verdicts=verdicts, cap=result_cap(str(proposal.get("agent") or "")))


def tool_artifact(proposal: dict[str, Any], report: dict[str, Any] | None) -> dict[str, Any]:
    """The same result for people (kept on the ToolMessage, not sent to the model)."""
    return {
        "agent": proposal.get("agent"),
        "proposal_id": proposal.get("id"),
        "title": proposal.get("title"),
        "summary_markdown": proposal.get("summary_markdown"),
        "evidence": proposal.get("evidence") or {},
        "status": (report or {}).get("status", "no_changes"),
        "report_markdown": (report or {}).get("markdown", ""),
    }
