"""The specialist contract: the chat grammar, its help and the chat tools come from the registry."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from agents.proposal import Proposal, Scope
from graphs.chat.grammar import AgentCommand, Grammar, GrammarError
from graphs.chat.offline import command_args
from graphs.chat.tools import specialist_tools
from graphs.registry import ChatOption, Specialist, SpecialistRegistry, Target
from service.runtime import default_registry


class WeatherArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    portfolio: str = Field(description="portfolio gid or name")
    days: int = Field(default=3, ge=1, le=14, description="how far ahead")
    units: str = "metric"
    mode: str = "summary"


def _run(args: dict[str, Any], ctx: Any) -> Proposal:
    return Proposal(agent="weather", scope=Scope(workspace_gid="1"), title="t", summary_markdown="s")


def weather_specialist() -> Specialist:
    return Specialist(
        name="weather",
        description="Forecast the team's weather.",
        run=_run,
        args_model=WeatherArgs,
        verbs=("weather", "sky"),
        expects=Target("portfolio", "portfolio", help="the team's weather"),
        options=(
            ChatOption("days", "days", "integer"),
            ChatOption("in", "units", "text", sets=(("mode", "detailed"),)),
        ),
        project_kind="portfolio",
    )


def test_a_registered_verb_is_a_command_with_its_options() -> None:
    grammar = Grammar.from_registry(SpecialistRegistry([weather_specialist()]))
    cmd = grammar.parse("sky Mobile portfolio days 5 in imperial units")
    assert isinstance(cmd, AgentCommand)
    assert (cmd.agent, cmd.verb, cmd.target) == ("weather", "sky", "Mobile portfolio")
    assert cmd.options == {"days": 5, "units": "imperial units"}
    assert cmd.expects.field == "portfolio"
    # Portfolios are passed as typed (no Asana read); options fill their fields and imply `sets`.
    tool = specialist_tools(SpecialistRegistry([weather_specialist()]))[0]
    args = command_args(cmd, tool, ctx=None)  # type: ignore[arg-type]
    assert args == {"portfolio": "Mobile portfolio", "days": 5, "units": "imperial units", "mode": "detailed"}
    with pytest.raises(GrammarError, match="usage: weather <portfolio>"):
        grammar.parse("weather")
    with pytest.raises(GrammarError, match="`days` needs a number"):
        grammar.parse("weather Mobile days soon")
    # Verbs of a specialist that is not registered are free text.
    assert Grammar.from_registry(SpecialistRegistry()).parse("weather Mobile") is None


def test_help_lists_the_registered_specialists_and_the_fixed_commands() -> None:
    grammar = Grammar.from_registry(SpecialistRegistry([weather_specialist()]))
    lines = grammar.help.splitlines()
    assert lines[0] == "    weather <portfolio> [days N] [in NAME]        the team's weather (weather)"
    assert not any(line.lstrip().startswith("sky") for line in lines)  # synonyms are not repeated
    assert any(line.lstrip().startswith("approve [all|N,M]") for line in lines)
    assert any(line.lstrip().startswith("run <agent> {json}") for line in lines)
    assert "plan <project>" not in grammar.help
    assert "weather" in grammar.verbs and "approve" in grammar.verbs


def test_the_shipped_help_is_generated_from_the_default_registry() -> None:
    grammar = Grammar.from_registry(default_registry())
    for line in (
        "    plan <project> [capacity N] [sprint NAME]     sprint plan from a backlog (planner)",
        "    risk <task> [days N]                          delay cascade from one task (dependencies)",
        "    deps <project>[, <project>…]                  dependency scan (dependencies)",
        "    triage <task> | triage project <project>      estimate and refine (triage)",
        "    retro [project]                               sprint retrospective (retro)",
        "    health <portfolio>                            portfolio health (health)",
    ):
        assert line in grammar.help.splitlines()
    assert set(grammar.commands) == {v for s in default_registry() for v in s.verbs}


def test_chat_tool_schemas_come_from_the_declared_args_model() -> None:
    tool = specialist_tools(SpecialistRegistry([weather_specialist()]))[0]
    assert tool.args_model is WeatherArgs
    expected = WeatherArgs.model_json_schema()
    expected.pop("title")
    assert tool.parameters() == expected
    assert tool.openai_schema()["function"]["parameters"]["required"] == ["portfolio"]
    assert tool.validate({"portfolio": "Mobile"}) == {
        "portfolio": "Mobile",
        "days": 3,
        "units": "metric",
        "mode": "summary",
    }
    for spec, t in zip(default_registry(), specialist_tools(default_registry()), strict=True):
        assert t.args_model is spec.args_model


def test_the_registry_refuses_inconsistent_declarations() -> None:
    base = weather_specialist()
    with pytest.raises(ValueError, match="'nope' is not a field of WeatherArgs"):
        SpecialistRegistry(
            [Specialist("w", "d", _run, WeatherArgs, verbs=("w",), expects=Target("task", "nope"))]
        )
    with pytest.raises(ValueError, match="verbs taken"):
        SpecialistRegistry([base, Specialist("other", "d", _run, WeatherArgs, verbs=("sky",))])
    with pytest.raises(ValueError, match="one lower-case word"):
        SpecialistRegistry([Specialist("w", "d", _run, WeatherArgs, verbs=("Two words",))])
    with pytest.raises(ValueError, match="reserved chat word"):
        Grammar([Specialist("w", "d", _run, WeatherArgs, verbs=("approve",))])
