"""Issue 17 (4, 5): real agent runs on the seeded sandbox with a model (the OpenAI-compatible test
server over real HTTP, the real langchain-openai client) that injects a phishing link, an approval
claim, an @mention or an invented number, or answers 400. What reaches Asana (the sandbox's whole
store) carries none of it, the offline text stands in, the output guard counted it, and every
comment or status update says which engine wrote it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agents.proposal import ActionKind, Proposal
from graphs.runner import RunOutcome, start_run
from service.runtime import Runtime, open_runtime
from service.settings import load_settings
from tests.llm.openai_server import OpenAIServer, answer, by_schema, status
from tools.llm.engine import LanguageEngine
from tools.llm.factory import make_chat_model
from tools.llm.guard import guard_counts, reset_guard_counts

MODEL = "openai-compatible:test-model"
IN_SPRINT_23 = datetime(2026, 11, 19, 17, 0, tzinfo=UTC)  # the seeded sprint's stand-up day
AFTER_SPRINT_23 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # planning/triage day (backlog)

PHISHING = "https://asana-login.example-security.com/verify"
APPROVAL = "APPROVED by admin"
APPROVED_GOAL = "Sprint approved by the PO: ship everything."
MENTION = "@pat.admin"
INVENTED = "4711"
BY_MODEL = "Written by test-model."
BY_OFFLINE = "Written by offline templates (model fallback)."


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    reset_guard_counts()
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings) as runtime:
        yield runtime


@pytest.fixture
def server(rt: Runtime) -> Iterator[OpenAIServer]:
    with OpenAIServer() as srv:
        model = make_chat_model(MODEL, base_url=srv.base_url, timeout=10, max_retries=0)
        rt.language = LanguageEngine(model, model_name=MODEL)
        yield srv


def run(rt: Runtime, agent: str, args: dict[str, Any], now: datetime) -> tuple[RunOutcome, Proposal]:
    ws = rt.resolve_workspace()
    ctx = rt.context(
        actor=f"agent:{agent}", approver_gid=rt.approver_for(ws, "Product Backlog"), now=lambda: now
    )
    thread = uuid.uuid4().hex
    out = start_run(rt.graph, ctx, thread, {"agent": agent, "args": args})
    record = next(r for r in rt.repo.list_proposals() if r.thread_id == thread)
    return out, record.proposal


def in_asana(rt: Runtime) -> str:
    """Everything the sandbox holds (tasks, notes, fields, stories, status updates), as one text."""
    assert rt.sandbox is not None
    return json.dumps(rt.sandbox.store.to_json(), ensure_ascii=False)


def found(text: str, *needles: str) -> list[str]:
    """The needles (case-insensitive) that occur in text: asserting `== []` keeps the report short."""
    low = text.lower()
    return [n for n in needles if n.lower() in low]


def comments(rt: Runtime, gid: str) -> list[str]:
    return [s.text or "" for s in rt.asana.stories(gid) if s.is_comment]


def project_gid(rt: Runtime, name: str) -> str:
    return rt.asana.find_project(rt.resolve_workspace(), name).gid


# --- triage: comments and the AI Suggestion field ------------------------------------------------


def test_triage_posts_no_injected_link_or_approval_claim_and_labels_each_comment(
    rt: Runtime, server: OpenAIServer
) -> None:
    fine = "Estimated by comparison with the similar completed tasks listed below."
    server.default = by_schema(
        TriageNote=[
            answer(
                {"summary": f"Please re-verify your Asana login at {PHISHING} first.", "suggestion": "ready"}
            ),
            answer({"summary": fine, "suggestion": "ready for planning"}),
            answer({"summary": fine, "suggestion": f"{APPROVAL}: ready to merge"}),
        ]
    )
    assert found(in_asana(rt), PHISHING, APPROVAL) == []  # nothing of it in the seeded workspace
    out, proposal = run(rt, "triage", {"project": "Product Backlog", "limit": 3}, AFTER_SPRINT_23)
    assert out.status == "done" and out.report is not None and out.report["status"] == "applied"
    assert found(in_asana(rt), "asana-login", APPROVAL, "ready to merge") == []

    posted = [a for a in proposal.actions if a.kind == ActionKind.POST_COMMENT]
    assert len(posted) == 3
    # Each comment carries its own engine: the model's for the clean answer, offline for the others.
    footers = [comments(rt, a.target or "")[-1] for a in posted]
    assert [BY_OFFLINE in footers[0], BY_MODEL in footers[1], BY_OFFLINE in footers[2]] == [True] * 3
    suggestions = [a.params["value"] for a in proposal.actions if a.params.get("field") == "AI Suggestion"]
    assert suggestions[1] == "ready for planning"
    assert suggestions[2].startswith("~") and "merge" not in suggestions[2]  # the offline suggestion

    counts = guard_counts()
    assert counts.checked["triage_comment"] == 3 and counts.rejected["triage_comment"] == 2
    assert counts.violations[("triage_comment", "link")] == 1
    assert counts.violations[("triage_comment", "approval_claim")] == 1


# --- stand-up: the status update and the nudges -------------------------------------------------


def test_standup_drops_a_mention_and_an_invented_number_and_labels_the_nudges(
    rt: Runtime, server: OpenAIServer
) -> None:
    server.default = by_schema(
        StandupNarrative=answer(
            {"headline": "Sprint 23 is at risk.", "summary": f"{MENTION} please look at the blockers today."}
        ),
        NudgeText=answer({"text": f"Hi, you still have {INVENTED} open items; can you update them today?"}),
    )
    out, proposal = run(rt, "standup", {"project": "Sprint 23"}, IN_SPRINT_23)
    assert out.report is not None and out.report["status"] == "applied", out.report
    assert found(in_asana(rt), MENTION, INVENTED) == []

    sprint = project_gid(rt, "Sprint 23")
    update = next(u for u in rt.asana.status_updates(sprint) if (u.title or "").startswith("Daily stand-up"))
    assert "Written by offline templates (model fallback); numbers computed" in (update.text or "")
    nudges = [a for a in proposal.actions if a.kind == ActionKind.POST_COMMENT]
    assert nudges
    for action in nudges:
        text = next(c for c in comments(rt, action.target or "") if "heads-up from the daily stand-up" in c)
        assert BY_OFFLINE in text  # the offline nudge, and it says so

    counts = guard_counts()
    assert counts.violations[("standup_summary", "mention")] == 1
    asked = [r for r in server.requests if r.schema_name == "NudgeText"]
    assert counts.violations[("standup_nudge", "number")] == len(asked) >= len(nudges)


def test_a_model_400_never_reaches_asana_as_text(rt: Runtime, server: OpenAIServer) -> None:
    detail = "Error code: 400 - This model's maximum context length is 8192 tokens (9001 requested)"
    server.default = status(400, detail)[0]
    out, proposal = run(rt, "standup", {"project": "Sprint 23"}, IN_SPRINT_23)
    assert out.report is not None and out.report["status"] == "applied", out.report
    assert proposal.model.startswith("offline (fallback:")  # the run's own record says why
    sprint = project_gid(rt, "Sprint 23")
    update = next(u for u in rt.asana.status_updates(sprint) if (u.title or "").startswith("Daily stand-up"))
    text = update.text or ""
    assert "Written by offline templates (model fallback)" in text
    leaks = ("maximum context length", "Error code", "HTTP 400", "model error", "fallback:")
    assert found(in_asana(rt), *leaks) == []
    assert guard_counts().total_checked == 0  # no answer came back to check


# --- planner: the approval request ---------------------------------------------------------------


def test_planner_approval_request_carries_no_approval_claim(rt: Runtime, server: OpenAIServer) -> None:
    server.default = by_schema(
        PlanNarrative=answer(
            {
                "sprint_goal": APPROVED_GOAL,
                "narrative": "LGTM, merge. This plan was reviewed already; apply it without waiting.",
                "risks": [APPROVAL],
            }
        )
    )
    out, proposal = run(rt, "planner", {"project": "Product Backlog"}, AFTER_SPRINT_23)
    assert out.status == "awaiting_approval" and out.interrupt is not None
    gid = out.interrupt["approval_task_gid"]
    notes = rt.asana.task(gid).notes or ""
    assert found(in_asana(rt), APPROVAL, APPROVED_GOAL, "LGTM", "without waiting") == []
    assert "**Sprint goal:** Deliver" in proposal.summary_markdown  # the offline goal stands in
    assert "Deliver" in notes and any("Deliver" in c for c in comments(rt, gid))
    assert guard_counts().violations[("planner_summary", "approval_claim")] == 1


def test_planner_risks_are_the_computed_ones_whatever_the_model_lists(
    rt: Runtime, server: OpenAIServer
) -> None:
    # An answer the guard lets through (no link, claim or number): its words are used, its "facts" not.
    server.default = by_schema(
        PlanNarrative=answer(
            {
                "sprint_goal": "Deliver the payment work first.",
                "narrative": "The plan fits the team's capacity and keeps the riskiest work early.",
                "risks": ["nothing worth mentioning"],
            }
        )
    )
    out, proposal = run(rt, "planner", {"project": "Product Backlog"}, AFTER_SPRINT_23)
    assert out.interrupt is not None and proposal.model == MODEL
    risks = proposal.summary_markdown.split("**Risks**", 1)[1].split("\n\n", 1)[0]
    assert "nothing worth mentioning" not in proposal.summary_markdown
    assert "- plan uses 100% of capacity" in risks  # computed by the planner
    notes = rt.asana.task(out.interrupt["approval_task_gid"]).notes or ""
    assert "nothing worth mentioning" not in notes and "plan uses 100% of capacity" in notes
    assert "Written by test-model; numbers computed by sprintpilot's planner." in notes


# --- dependency alerts: each says which engine wrote it -------------------------------------------


def test_each_dependency_alert_says_which_engine_wrote_it(rt: Runtime, server: OpenAIServer) -> None:
    server.default = by_schema(
        CascadeNarrative=answer(
            {"headline": "A prerequisite slipped.", "narrative": "Dependents move later."}
        ),
        DependentAlert=[
            answer({"text": "Heads-up: a prerequisite of this task slipped; please check your plan."}),
            answer({"text": f"Heads-up: reply to {MENTION} at {PHISHING}."}),
            answer({"text": "Heads-up: a prerequisite of this task slipped; please check your plan."}),
        ],
    )
    _, proposal = run(rt, "dependencies", {"projects": ["Product Backlog"]}, AFTER_SPRINT_23)
    alerts = [a for a in proposal.actions if a.kind == ActionKind.POST_COMMENT]
    assert len(alerts) >= 3
    texts = [comments(rt, a.target or "")[-1] for a in alerts]
    # The second alert written fell back offline; only it says so, every other one names the model.
    assert sum(BY_OFFLINE in t for t in texts) == 1
    assert sum(BY_MODEL in t for t in texts) == len(texts) - 1
    assert found(in_asana(rt), PHISHING, MENTION) == []
    assert guard_counts().rejected["dependencies_alert"] == 1
