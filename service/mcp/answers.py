"""What MCP tools answer: structured output models, and their concise text with Asana text fenced.

Text that comes from Asana (names, notes, a specialist's summary written from them) is wrapped in
<asana_data> fences (prompts/loader.py `fence`, as the chat digest does) in both the text and the
structured content, so a client's model reads it as data, never as instructions.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, Field

from graphs.chat.digest import PREAMBLE, fit_lines, fit_numbers, key_numbers
from prompts.loader import fence

SUMMARY_CHARS = 2500
NUMBERS_CHARS = 800


class ReadAnswer(BaseModel):
    tool: str
    agent: str
    title: str = Field(description="fenced Asana-derived text")
    summary: str = Field(description="the specialist's summary, fenced")
    evidence: dict[str, Any] = Field(description="key numbers computed by code (dotted paths)")
    changes_it_would_propose: int
    engine: str


class ProposedAction(BaseModel):
    number: int
    kind: str
    target: str | None = None
    description: str = Field(default="", description="fenced")


class ApproveAt(BaseModel):
    asana_task_gid: str | None = None
    asana_task_url: str | None = None
    console_url: str
    cli: str
    mcp: str | None = None


class ProposalAnswer(BaseModel):
    tool: str
    agent: str
    proposal_id: str | None
    status: Literal["awaiting_approval", "done", "no_changes"]
    title: str = Field(description="fenced")
    summary: str = Field(description="fenced")
    actions: list[ProposedAction]
    approve_at: ApproveAt | None = None
    # A proposal about the same subject that still waits and already states all of this one
    # (graphs/repeats.py rule 2): nothing new was proposed; decide that one instead.
    already_waiting: str | None = None


class SearchHit(BaseModel):
    gid: str
    name: str = Field(description="fenced")
    completed: bool
    assignee: str | None = None
    due_on: str | None = None


class SearchAnswer(BaseModel):
    project: str
    query: str
    hits: list[SearchHit]
    more: int


class TextEstimate(BaseModel):
    project: str
    points: float
    low: float
    high: float
    confidence: float
    method: str
    similar: list[dict[str, Any]]
    history_size: int


class DecisionAnswer(BaseModel):
    proposal_id: str
    decided_by: str
    status: str
    report: str = Field(description="fenced")


def numbers(evidence: dict[str, Any]) -> dict[str, Any]:
    items, _ = key_numbers(evidence)
    return dict(items)


def read_text(answer: ReadAnswer) -> str:
    nums, left = fit_numbers(list(answer.evidence.items()), NUMBERS_CHARS)
    more = f" (+{left} more in structured content)" if left else ""
    lines = [
        PREAMBLE,
        f"{answer.tool} ({answer.agent}, engine {answer.engine}):",
        answer.title,
        answer.summary,
        f"Evidence (computed by code){more}:",
        fence("evidence", nums),
    ]
    if answer.changes_it_would_propose:
        lines.append(
            f"It would propose {answer.changes_it_would_propose} change(s); nothing was proposed or written."
        )
    return "\n".join(lines)


def proposal_text(answer: ProposalAnswer) -> str:
    lines = [PREAMBLE, f"{answer.tool} ({answer.agent}): {answer.status}", answer.title]
    if answer.proposal_id:
        lines.append(f"Proposal {answer.proposal_id[:12]} ({answer.proposal_id})")
    if answer.actions:
        # Counts by kind keep the text short; each action (target, fenced description) is in the
        # structured content and on the approval surfaces.
        kinds = Counter(a.kind for a in answer.actions)
        counted = ", ".join(f"{n} {kind}" for kind, n in kinds.most_common())
        lines.append(f"{len(answer.actions)} action(s) waiting: {counted}")
    if answer.already_waiting:
        lines.append(
            f"Nothing new: the same changes already wait in proposal {answer.already_waiting[:12]} "
            f"({answer.already_waiting}); decide that one."
        )
    if answer.approve_at is not None:
        at = answer.approve_at
        lines.append("Nothing is applied until a person approves it:")
        if at.asana_task_gid:
            lines.append(f"  - Asana approval task {at.asana_task_url or at.asana_task_gid}")
        lines.append(f"  - web console {at.console_url}")
        lines.append(f"  - terminal: {at.cli}")
        if at.mcp:
            lines.append(f"  - MCP: {at.mcp}")
    lines.append(answer.summary)
    return "\n".join(lines)


def fenced_summary(text: str) -> str:
    return fence("summary", fit_lines(text or "", SUMMARY_CHARS))
