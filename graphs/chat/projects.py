"""The chat supervisor's view of where it works: the projects in scope, and a search over them.

- `list_projects` is a read-only tool next to the specialists: the model searches the projects this
  chat may use by (part of) a name before it passes one to a specialist; a search that finds
  nothing answers with the close names (tools/names.py, as the unknown-project errors do).
- `scope_lines` gives the supervisor's system prompt the workspace and the projects in scope
  (the first `PROMPT_PROJECTS`; the rest are counted and left to `list_projects`).
Project and workspace names come from Asana: they are fenced as data wherever the model reads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graphs.chat.resolve import ChatError, Resolver
from prompts.loader import fence
from tools.names import close_names

if TYPE_CHECKING:
    from graphs.context import RunContext

LIST_PROJECTS = "list_projects"
PROMPT_PROJECTS = 30
DESCRIPTION = (
    "Search the Asana projects this chat may use by name (any case, a part of the name is enough); "
    "without a query, list them. Read-only. Use it to find a project's exact name or gid before "
    "calling a specialist, or when a specialist answered that a project is unknown."
)


class ListProjectsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str | None = Field(
        default=None, max_length=200, description="A project name or part of one; omit to list all."
    )
    limit: int = Field(default=20, ge=1, le=50, description="At most this many projects are listed.")


def openai_schema() -> dict[str, Any]:
    schema = ListProjectsArgs.model_json_schema()
    schema.pop("title", None)
    return {
        "type": "function",
        "function": {"name": LIST_PROJECTS, "description": DESCRIPTION, "parameters": schema},
    }


def _packed(text: str) -> str:
    return "".join(text.casefold().split())


def search(projects: list[tuple[str, str]], query: str | None) -> tuple[list[tuple[str, str]], bool]:
    """(matches, exact): the projects whose name contains `query` (case and spaces ignored), or,
    when none does, the close names (exact False)."""
    if not query or not query.strip():
        return projects, True
    wanted = _packed(query)
    hits = [(g, n) for g, n in projects if wanted in _packed(n) or query.strip() == g]
    if hits:
        return hits, True
    close = close_names(query, [n for _, n in projects])
    return [p for name in close for p in projects if p[1] == name], False


def _listing(projects: list[tuple[str, str]]) -> str:
    return "\n".join(f"- {name} (gid {gid})" for gid, name in projects)


def list_projects(raw_args: Any, ctx: RunContext) -> tuple[str, dict[str, Any]]:
    """The tool's answer for the model, and its artifact for people."""
    try:
        args = ListProjectsArgs.model_validate(raw_args if isinstance(raw_args, dict) else {})
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'args'}: {e['msg']}" for e in err.errors()
        )
        raise ChatError(f"{LIST_PROJECTS}: invalid arguments: {problems}") from None
    projects = Resolver(ctx).scoped_projects()
    matches, exact = search(projects, args.query)
    shown = matches[: args.limit]
    asked = f" matching {args.query!r}" if args.query else ""
    if not matches:
        head = f"No project{asked} among the {len(projects)} projects this chat may use, and none is close."
    elif exact:
        head = f"{len(matches)} of the {len(projects)} projects this chat may use{asked}"
        head += f" (the first {len(shown)} are listed):" if len(shown) < len(matches) else ":"
    else:
        head = f"No project{asked} among the {len(projects)} projects this chat may use; close names:"
    text = head if not shown else f"{head}\n{fence('projects', _listing(shown))}"
    artifact = {
        "agent": LIST_PROJECTS,
        "lookup": True,
        "title": f"projects{asked}",
        "status": f"{len(matches)} found" if exact else "close names",
        "summary_markdown": f"{head}\n\n{_listing(shown)}".strip(),
        "projects": [{"gid": g, "name": n} for g, n in shown],
    }
    return text, artifact


def scope_lines(ctx: RunContext) -> tuple[str, str]:
    """(workspace, projects) for the supervisor's system prompt; never raises (a read that fails
    is said in the text, and the model can still call `list_projects`)."""
    resolver = Resolver(ctx)
    try:
        gid = resolver.workspace
        names = {w.gid: w.name for w in ctx.asana.workspaces()}
        workspace = f"{names.get(gid) or 'unnamed'} (gid {gid})"
        projects = resolver.scoped_projects()
    except Exception as err:  # noqa: BLE001 - the prompt says what is unknown instead of failing the turn
        reason = " ".join(str(err).split())[:160]
        return "unknown", f"(the projects could not be read: {reason}; call {LIST_PROJECTS})"
    listed = _listing(projects[:PROMPT_PROJECTS]) or "(none)"
    more = len(projects) - PROMPT_PROJECTS
    if more > 0:
        listed += f"\n… and {more} more: call {LIST_PROJECTS} to search them."
    return workspace, listed
