"""The MCP tool list, derived from the specialist registry in this one place.

Every registered specialist gives two tools over the same `args_model` (graphs/chat/tools.py
`SpecialistTool`, so the JSON schema and validation are the chat's):
- a read tool: the specialist's compute only (reads + numbers), answered with its summary and
  evidence; its proposal is dropped, so it can never write, whatever Asana text it reads;
- a proposal tool: the specialist's run through the supervisor graph (policy, approval task in
  Asana, gate), answered with the proposal id and where to approve; nothing is applied until a
  person approves elsewhere.
Known specialists get the names the ceremonies use; one registered later gets `<name>` and
`propose_<name>` without changes here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from graphs.chat.tools import SpecialistTool, specialist_tools
from graphs.registry import SpecialistRegistry

Mode = Literal["read", "propose"]

# specialist → (read tool name, what it answers)
READ_TOOLS: dict[str, tuple[str, str]] = {
    "standup": (
        "sprint_status",
        "Sprint status / stand-up summary: progress per person, blockers, burndown.",
    ),
    "forecast": ("forecast", "Forecast: when a scope will be done and how much by a date (P50/P85/P95)."),
    "dependencies": ("dependency_cascade", "Dependency cascade of a slipped, blocked or late task."),
    "triage": ("estimate", "Story-point estimate of a backlog task, with the similar past tasks used."),
    "retro": ("retro_summary", "Retro summary of a finished sprint: numbers, blockers, themes."),
    "health": ("portfolio_health", "Portfolio health per project: completion, carry-over, risk, trend."),
    "qa": ("dod_check", "Definition-of-Done check of a task: what is missing before it is done."),
    "planner": ("plan_preview", "Preview of the next sprint plan from a backlog (nothing is proposed)."),
}
# specialist → (proposal tool name, what it proposes)
PROPOSAL_TOOLS: dict[str, tuple[str, str]] = {
    "planner": ("plan_sprint", "Propose the next sprint plan from a backlog."),
    "triage": ("refine_backlog_item", "Propose refinements of backlog items: estimate, criteria, priority."),
    "dependencies": ("shift_due_dates", "Propose shifted due dates for the tasks a slip cascades to."),
    "retro": ("create_action_items", "Propose the retro's action items as Asana tasks."),
    "standup": ("post_standup", "Propose posting the stand-up summary and nudges to Asana."),
    "qa": ("propose_dod_move", "Propose the Definition-of-Done comment/move for a task."),
    "health": ("propose_health_update", "Propose the portfolio health field and status updates."),
    "forecast": ("propose_forecast_note", "Propose posting the forecast to Asana."),
}

READ_NOTE = " Read-only: computes an answer with its evidence; never writes to Asana."
PROPOSAL_NOTE = (
    " Creates a proposal only: nothing is written to Asana until a person approves it on the "
    "proposal's Asana approval task, the web console or `sprintpilot approvals approve`."
)


@dataclass(frozen=True)
class McpTool:
    name: str
    mode: Mode
    description: str
    specialist: SpecialistTool


def catalog(registry: SpecialistRegistry) -> list[McpTool]:
    out: list[McpTool] = []
    for tool in specialist_tools(registry):
        read_name, read_text = READ_TOOLS.get(tool.name, (tool.name, tool.description))
        prop_name, prop_text = PROPOSAL_TOOLS.get(tool.name, (f"propose_{tool.name}", tool.description))
        out.append(McpTool(read_name, "read", read_text + READ_NOTE, tool))
        out.append(McpTool(prop_name, "propose", prop_text + PROPOSAL_NOTE, tool))
    return out
