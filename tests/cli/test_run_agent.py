"""Every "run one specialist" command goes through `run_specialist_command`, which opens the
runtime, checks the args against the registered `args_model`, starts the run and renders it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from pydantic import BaseModel, ConfigDict
from typer.testing import CliRunner

import service.runtime
from agents.proposal import Proposal, Scope
from graphs.registry import Specialist, SpecialistRegistry
from service.cli import dependencies, forecast, health, main, retro, review, run_agent, triage
from service.cli.run_agent import run_specialist_command

runner = CliRunner()


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)


@pytest.mark.parametrize(
    ("module", "argv", "agent", "args_type"),
    [
        (main, ["plan", "--capacity", "20"], "planner", "function"),
        (retro, ["retro", "--project", "Sprint 23"], "retro", "RetroArgs"),
        (dependencies, ["risk", "--task", "12", "--days", "2"], "dependencies", "DependencyArgs"),
        (dependencies, ["deps"], "dependencies", "DependencyArgs"),
        (review, ["review", "--task", "12"], "qa", "QaArgs"),
        (triage, ["triage", "--task", "12"], "triage", "dict"),
        (forecast, ["forecast", "--by", "2026-12-01"], "forecast", "ForecastArgs"),
        (health, ["health", "--window", "4"], "health", "HealthArgs"),
    ],
)
def test_agent_commands_use_the_shared_helper(
    monkeypatch: pytest.MonkeyPatch, module: Any, argv: list[str], agent: str, args_type: str
) -> None:
    seen: list[tuple[str, Any, dict[str, Any]]] = []

    def spy(name: str, args: Any, **kw: Any) -> None:
        seen.append((name, args, kw))

    # `plan` imports the helper when it runs (keeping pydantic out of `--help`): spied at its home.
    target = module if hasattr(module, "run_specialist_command") else run_agent
    monkeypatch.setattr(target, "run_specialist_command", spy)
    result = runner.invoke(main.app, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [(name, args, kw)] = seen
    assert name == agent
    assert type(args).__name__ == args_type
    assert set(kw) >= {"data_dir", "as_json"}


class EchoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    word: str


class OtherArgs(BaseModel):
    word: str


def _echo(args: dict[str, Any], ctx: Any) -> Proposal:
    return Proposal(
        agent="echo",
        scope=Scope(workspace_gid="1"),
        title=f"echo {args['word']}",
        summary_markdown="nothing to change",
    )


def _app(make_args: Any, **kw: Any) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def echo(data_dir: Path, as_json: bool = False) -> None:
        run_specialist_command("echo", make_args(), data_dir=data_dir, as_json=as_json, **kw)

    app.command("noop")(lambda: None)
    return app


@pytest.fixture
def echo_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = SpecialistRegistry([Specialist("echo", "echoes", _echo, EchoArgs, verbs=("echo",))])
    monkeypatch.setattr(service.runtime, "default_registry", lambda: registry)


@pytest.mark.usefixtures("echo_registry")
def test_the_helper_runs_the_specialist_and_renders_the_outcome(tmp_path: Path) -> None:
    result = runner.invoke(_app(lambda: EchoArgs(word="hi")), ["echo", str(tmp_path), "--as-json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["status"] == "done" and len(out["thread_id"]) == 32
    assert set(out) == {"thread_id", "status", "approval_request", "report", "answer", "asana_calls"}

    shown: list[run_agent.AgentRun] = []
    app = _app(lambda: {"word": "there"}, actor="cli:echo", thread_prefix="echo", show=shown.append)
    result = runner.invoke(app, ["echo", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [run] = shown
    assert run.thread_id.startswith("echo-") and run.args == {"word": "there"}
    assert run.outcome.status == "done"


@pytest.mark.usefixtures("echo_registry")
def test_the_helper_refuses_args_of_another_model(tmp_path: Path) -> None:
    result = runner.invoke(_app(lambda: OtherArgs(word="hi")), ["echo", str(tmp_path)])
    assert isinstance(result.exception, TypeError)
    assert "echo takes EchoArgs, got OtherArgs" in str(result.exception)


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--project", "No Such Project"],
        ["forecast", "--project", "No Such Project"],
        ["health", "--portfolio", "No Such"],
        ["retro", "--project", "No Such"],
        ["triage", "--task", "999"],
    ],
)
def test_a_failed_agent_run_is_one_line_and_exit_1(args: list[str], tmp_path: Path) -> None:
    """A run that fails (bad name, Asana 404) used to print a log line, a panel and the raw request
    line, and `forecast`/`health` exited 0."""
    result = runner.invoke(main.app, [*args, "--data-dir", str(tmp_path)])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "GET /" not in lines[0] and "Traceback" not in result.output
    # The user's to fix: the reason alone, not "agent 'plan' failed: …" (that is for crashes).
    assert not lines[0].startswith("error: agent "), lines[0]


def test_forecast_health_and_risk_print_their_answer_before_the_actions(tmp_path: Path) -> None:
    """Issue 16 reproduction 8: these printed only the outcome and the action table; `--json` had
    no numbers."""
    for args, words in (
        (["forecast"], ("P50", "P85")),
        (["health"], ("health", "/100")),
        (["risk", "--project", "Sprint 23"], ("Graph:", "Pace:")),
    ):
        result = runner.invoke(main.app, [*args, "--data-dir", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert all(w in result.output for w in words), (args, result.output[:400])
        as_json = runner.invoke(main.app, [*args, "--json", "--data-dir", str(tmp_path)])
        answer = json.loads(as_json.output)["answer"]
        assert answer["summary_markdown"] and answer["evidence"] and answer["engine"] == "offline"
