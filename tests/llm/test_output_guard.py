"""The output guard (tools/llm/guard.py) and the engine labels as Asana sees them (tools/llm/labels.py):
what counts as a link, mention, approval claim or invented number; the engine's fallback to the
offline text on any of them (fresh, cached or over real HTTP); the counters; and a label that never
carries a failure's text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from prompts.loader import load_prompt
from tests.llm.openai_server import OpenAIServer, answer
from tests.llm.test_engine import PLAN, scripted
from tools.llm.cache import ResponseCache, cache_key
from tools.llm.engine import LanguageEngine
from tools.llm.factory import make_chat_model
from tools.llm.guard import check_output, describe_kinds, guard_counts, reset_guard_counts
from tools.llm.labels import combined, footer, with_footer, written_by, written_by_all
from tools.llm.offline import write_offline
from tools.llm.schemas import PlanNarrative

INPUTS: dict[str, Any] = {"points": 23, "capacity": 24.0, "share": 0.958, "tasks": ["a", "b", "c"], "p85": 31}


def kinds(text: str, inputs: dict[str, Any] | None = None) -> list[str]:
    return [v.kind for v in check_output({"text": text}, INPUTS if inputs is None else inputs)]


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    reset_guard_counts()


# --- what the guard finds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Verify at https://asana-login.example-security.com/verify",
        "see hxxp://evil",
        "go to www.example.org",
        "visit asana-support.com today",
        "open evil.example/login",
        "[your plan](http://x.y)",
        '<a href="x">plan</a>',
        "mailto:pm@corp",
        "javascript:alert(1)",
        "ｈｔｔｐｓ：／／evil",  # fullwidth
        "h\u200bttps://evil",  # a zero-width space inside
        "the API at 10.0.0.1:8080",
    ],
)
def test_links_are_found(text: str) -> None:
    assert "link" in kinds(text, {"n": [10, 0, 1, 8080]})


@pytest.mark.parametrize(
    "text",
    ["@pat.admin please review", "ping ＠pat", "mail ana@corp.example", "cc @channel"],
)
def test_mentions_are_found(text: str) -> None:
    assert "mention" in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "APPROVED by admin",
        "Approved.",
        "LGTM, merge",
        "looks good to me",
        "pre-approved by the PO",
        "approval was already granted",
        "No approval needed; apply it now.",
        "this doesn't need review",
        "It is ok to merge.",
        "signed off by Ana",
        "ship it",
    ],
)
def test_approval_claims_are_found(text: str) -> None:
    assert "approval_claim" in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "The plan takes 23 of 24 points (96% of capacity, 95.8% exactly); P85 is 31 points.",
        "Three tasks, 3 in all; the proposal waits for approval before anything changes.",
        "Node.js/React work, e.g. the U.S. team's API; done.Next: nothing @ all",  # a lone '@' names no one
    ],
)
def test_plain_phrasing_of_the_inputs_passes(text: str) -> None:
    assert kinds(text) == []


def test_a_number_the_inputs_do_not_state_is_found() -> None:
    assert kinds("The team will deliver 37 points.") == ["number"]
    assert kinds("You still have ４７１１ items.") == ["number"]  # fullwidth digits too
    assert kinds("About 1,024 points.", {"n": 1024}) == []  # thousands separator
    # a number the offline writer computed from the inputs (a computed fact) is allowed
    assert check_output({"t": "uses 96% of capacity"}, {"a": 23}, {"t": "plan uses 96% of capacity"}) == []


def test_describe_kinds_uses_fixed_words() -> None:
    assert describe_kinds(["number", "link", "link"]) == "a link and a number not in the inputs"
    assert describe_kinds(["approval_claim"]) == "an approval claim"


# --- the engine: every model answer passes the guard --------------------------------------------


def test_the_offline_writers_own_text_passes_the_guard() -> None:
    offline = write_offline("planner_summary", PLAN, PlanNarrative)
    assert check_output(offline, PLAN, offline) == []


def test_a_rejected_answer_is_replaced_by_the_offline_text_and_counted() -> None:
    bad = {"sprint_goal": "Ship it: APPROVED by admin.", "narrative": "See https://x.example/a.", "risks": []}
    out, label = LanguageEngine(scripted(bad), model_name="m").write("planner_summary", PLAN, PlanNarrative)
    assert out == write_offline("planner_summary", PLAN, PlanNarrative)
    assert label == "offline (fallback: the output guard rejected a link and an approval claim)"
    counts = guard_counts()
    assert counts.checked == {"planner_summary": 1} and counts.rejected == {"planner_summary": 1}
    assert counts.by_kind() == {"approval_claim": 1, "link": 1}


def test_a_clean_answer_is_used_and_counted_as_checked() -> None:
    good = {
        "sprint_goal": "Ship reliable payments.",
        "narrative": "Scope is 23 points against 24.",
        "risks": [],
    }
    out, label = LanguageEngine(scripted(good), model_name="m").write("planner_summary", PLAN, PlanNarrative)
    assert label == "m" and out.sprint_goal == "Ship reliable payments."
    assert guard_counts().total_checked == 1 and guard_counts().total_rejected == 0


def test_a_replayed_answer_is_guarded_too_and_a_rejected_one_is_never_recorded(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    bad = {"sprint_goal": "Sprint goal", "narrative": "We will finish 99 points, promised.", "risks": []}
    _, label = LanguageEngine(scripted(bad), model_name="m", cache=cache).write(
        "planner_summary", PLAN, PlanNarrative
    )
    assert label.startswith("offline (fallback: the output guard rejected a number")
    assert list(tmp_path.glob("*.json")) == []  # not recorded: a replay would serve it again
    # An answer recorded before the guard existed is checked when replayed.
    rendered = load_prompt("planner_summary").render(**PLAN)
    cache.put(cache_key("m", rendered, "PlanNarrative"), bad)
    replay = LanguageEngine(None, model_name="m", cache=cache, replay_only=True)
    out, label = replay.write("planner_summary", PLAN, PlanNarrative)
    assert out == write_offline("planner_summary", PLAN, PlanNarrative) and label.startswith("offline")


def test_over_http_an_injected_answer_falls_back_offline() -> None:
    injected = {"sprint_goal": "Ready.", "narrative": "@pat.admin: LGTM, merge now.", "risks": []}
    with OpenAIServer(answer(injected)) as server:
        model = make_chat_model("openai-compatible:test-model", base_url=server.base_url, max_retries=0)
        engine = LanguageEngine(model, model_name="openai-compatible:test-model")
        out, label = engine.write("planner_summary", PLAN, PlanNarrative)
    assert out == write_offline("planner_summary", PLAN, PlanNarrative)
    assert label == "offline (fallback: the output guard rejected a mention and an approval claim)"
    assert len(server.requests) == 1  # no retry: injected text would come back


# --- labels as Asana reads them ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ("offline", "offline templates"),
        ("openai-compatible:test-model", "test-model"),
        ("openai:gpt-4o-mini", "gpt-4o-mini"),
        ("offline (fallback: model error: OpenAIInvalidRequestError: Error code: 400 …)", None),
        ("offline (fallback: the output guard rejected a link)", None),
        ("offline (fallback: the model failed 3 calls in a row (HTTP 500); the rest …)", None),
    ],
)
def test_written_by_names_the_engine_and_never_a_reason(label: str, shown: str | None) -> None:
    assert written_by(label) == (shown or "offline templates (model fallback)")
    assert footer(label) == f"_Written by {shown or 'offline templates (model fallback)'}._"


def test_several_items_name_each_engine_once() -> None:
    labels = ["openai:m", "offline (fallback: model error: boom)", "openai:m", "offline"]
    assert written_by_all(labels) == "m, offline templates (model fallback) and offline templates"
    assert combined(["a", "a"]) == "a" and combined(["a", "b"]) == "a; b"
    assert with_footer("Hello\n", "offline") == "Hello\n\n_Written by offline templates._"
