"""The offline command grammar: parsing, decisions, and every command reaching its specialist."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import BaseModel, ConfigDict

from agents.proposal import Proposal, Scope
from graphs.chat.grammar import AgentCommand, DecisionCommand, Grammar, GrammarError, MetaCommand
from graphs.chat.offline import decisions_for
from graphs.chat.resolve import ChatError
from graphs.registry import Specialist, SpecialistRegistry
from service.chat_runtime import chat_session
from service.runtime import Runtime, default_registry, open_runtime
from service.settings import Settings
from tests.chat.conftest import on_sprint_23s_last_day

# The grammar of every shipped specialist (what the chat of a default runtime understands).
parse = Grammar.from_registry(default_registry()).parse


@pytest.mark.parametrize(
    ("text", "agent", "target", "options"),
    [
        (
            "plan Product Backlog capacity 34 sprint Sprint 30",
            "planner",
            "Product Backlog",
            {"capacity": 34.0, "sprint_name": "Sprint 30"},
        ),
        ("standup Sprint 23", "standup", "Sprint 23", {}),
        ("review 1200000000000152", "qa", "1200000000000152", {}),
        ("retro", "retro", None, {}),
        ("risk Add rate limiting days 3", "dependencies", "Add rate limiting", {"days": 3}),
        ("deps Product Backlog, Sprint 23", "dependencies", "Product Backlog, Sprint 23", {}),
        ("triage 12", "triage", "12", {}),
        ("triage project Product Backlog", "triage", "Product Backlog", {"mode": "project"}),
        ("forecast Sprint 23", "forecast", "Sprint 23", {}),
        ("health Mobile", "health", "Mobile", {}),
    ],
)
def test_specialist_commands_parse(text: str, agent: str, target: str | None, options: dict) -> None:
    cmd = parse(text)
    assert isinstance(cmd, AgentCommand)
    assert (cmd.agent, cmd.target, cmd.options) == (agent, target, options)


def test_run_decision_and_meta_commands_parse() -> None:
    run = parse('run planner {"capacity": 5}')
    assert isinstance(run, AgentCommand) and run.raw_args == {"capacity": 5}
    assert parse("approve") == DecisionCommand("approve", [])
    assert parse("approve all") == DecisionCommand("approve", [])
    assert parse("approve 1,3") == DecisionCommand("approve", [1, 3])
    assert parse("reject too early") == DecisionCommand("reject", [], message="too early")
    assert parse("reject 2 wrong owner") == DecisionCommand("reject", [2], message="wrong owner")
    assert parse('edit 2 {"params": {"due_on": "2026-12-01"}}') == DecisionCommand(
        "edit", [2], edit={"params": {"due_on": "2026-12-01"}}
    )
    assert parse("help") == MetaCommand("help") and parse("show") == MetaCommand("show")
    assert parse("how is the sprint going?") is None


@pytest.mark.parametrize(
    "text",
    [
        "plan",
        "plan Backlog capacity lots",
        "edit x {}",
        "edit 1 not-json",
        'edit 1 {"name": 1}',
        "run",
        "run planner [1]",
        "approve please",
        "review",
    ],
)
def test_malformed_commands_are_clear_errors(text: str) -> None:
    with pytest.raises(GrammarError):
        parse(text)


def test_decisions_follow_the_numbers_shown() -> None:
    request = {"action_requests": [{"name": "update_task", "args": {"target": "1", "params": {"a": 1}}}] * 3}
    assert [d["type"] for d in decisions_for(DecisionCommand("approve", [2]), request)] == [
        "reject",
        "approve",
        "reject",
    ]
    assert [d["type"] for d in decisions_for(DecisionCommand("reject", [2]), request)] == [
        "approve",
        "reject",
        "approve",
    ]
    edit = decisions_for(DecisionCommand("edit", [3], edit={"params": {"b": 2}}), request)[2]
    assert edit["edited_action"]["args"]["params"] == {"a": 1, "b": 2}
    with pytest.raises(ChatError, match="out of range"):
        decisions_for(DecisionCommand("approve", [4]), request)


# --- the offline chat reaches every specialist ---------------------------------------------------

NAMES = ["planner", "standup", "qa", "retro", "dependencies", "triage", "forecast", "health"]


class _AnyArgs(BaseModel):
    model_config = ConfigDict(extra="allow")


def _recording_registry(calls: list[tuple[str, dict]]) -> SpecialistRegistry:
    """The shipped specialists' declarations (verbs, targets, options) with recording runs."""
    shipped = {s.name: s for s in default_registry()}

    def make(name: str) -> Specialist:
        def run(args: dict, ctx: object) -> Proposal:
            calls.append((name, args))
            return Proposal(
                agent=name,
                scope=Scope(workspace_gid="1"),
                title=f"{name} result",
                summary_markdown=f"{name} summary",
                evidence={"n": 42},
            )

        return dataclasses.replace(
            shipped[name], description=f"the {name} agent", run=run, args_model=_AnyArgs
        )

    return SpecialistRegistry([make(n) for n in NAMES])


def test_every_command_reaches_its_specialist_with_resolved_gids(settings: Settings) -> None:
    calls: list[tuple[str, dict]] = []
    with open_runtime(settings, registry=_recording_registry(calls)) as rt:
        on_sprint_23s_last_day(rt)
        session = chat_session(rt, "t-grammar", "priya.brooks@acme.example")
        backlog = rt.asana.find_project(rt.allowed_workspaces()[0], "Product Backlog").gid
        task = "1200000000000155"  # "Add rate limiting to the home feed API"
        for text in [
            "plan Product Backlog capacity 34",
            "standup Sprint 23",
            f"review {task}",
            "retro Sprint 23",
            "risk add rate limiting to the home feed api days 2",
            "deps Product Backlog",
            f"triage {task}",
            "forecast Sprint 23",
            "health Mobile portfolio",
            'run planner {"capacity": 3}',
        ]:
            events = list(session.send(text))
            assert events[-1].kind == "message" and "result" in events[-1].data["content"], (text, events)
    by_agent: dict[str, list[dict]] = {}
    for name, args in calls:
        by_agent.setdefault(name, []).append(args)
    assert set(by_agent) == set(NAMES)
    assert by_agent["planner"][0] == {"project": backlog, "capacity": 34.0}
    assert by_agent["planner"][1] == {"capacity": 3}
    assert by_agent["qa"][0] == {"task": task}
    assert by_agent["dependencies"][0]["task"] == task and by_agent["dependencies"][0]["days"] == 2
    assert by_agent["dependencies"][1] == {"projects": [backlog]}
    assert by_agent["health"][0] == {"portfolio": "Mobile portfolio"}


def _answer(rt: Runtime, text: str) -> str:
    events = list(chat_session(rt, "t-errors", "priya.brooks@acme.example").send(text))
    return " ".join(str(e.data.get("content") or e.data.get("message")) for e in events)


def test_clear_errors_for_unknown_projects_tasks_commands_and_free_text(rt: Runtime) -> None:
    assert "close names: 'Product Backlog'" in _answer(rt, "plan Product Backlg")
    assert "no task named 'zzz nothing'" in _answer(rt, "review zzz nothing")
    assert "did you mean `standup`" in _answer(rt, "standpu Sprint 23")
    assert "Free-text questions need a model" in _answer(rt, "how are we doing?")
    assert "SPRINTPILOT_MODEL=openai:<model>" in _answer(rt, "how are we doing?")
    assert "not available here" in _answer(rt, "run forecast {}")  # not registered in this runtime
    # The grammar is this runtime's registry's: an unregistered agent's verb is not a command.
    assert "Free-text questions need a model" in _answer(rt, "forecast Sprint 23")
    assert "Nothing is waiting for approval" in _answer(rt, "approve")
    assert "plan <project>" in _answer(rt, "help")


def test_a_huge_name_is_not_repeated_back_whole(rt: Runtime) -> None:
    # A 20 KB project name came back in full in "no project named '…'".
    answer = _answer(rt, "plan " + "x" * 20_000)
    assert "no project named 'xxxx" in answer and len(answer) < 500
