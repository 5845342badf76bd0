"""`sprintpilot --help` lists every command without importing their modules (issue 23: 2.4 s → lazy)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from service.cli.lazy import LazyGroup
from service.cli.main import app

# What listing the commands must not pull in: each is a second or more of imports.
# pydantic: 60 ms of a 0.21 s `--help`; the error handler and the agent commands import it when used.
HEAVY = (
    "langchain_core",
    "langgraph",
    "service.cli.chat",
    "service.db.models",
    "sandbox.server",
    "sklearn",
    "pydantic",
)


@pytest.mark.parametrize("name", sorted(LazyGroup.lazy))
def test_each_listed_summary_is_the_commands_own_help(name: str) -> None:
    entry = LazyGroup.lazy[name]
    command = entry.load(name)
    assert command.name == name
    assert command.get_short_help_str(limit=300) == entry.summary


def test_the_help_lists_every_command_without_importing_them() -> None:
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from service.cli.main import app\n"
        "out = CliRunner().invoke(app, ['--help'], terminal_width=200)\n"
        "assert out.exit_code == 0, out.output\n"
        "print(out.output)\n"
        f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    listing, loaded = done.stdout.rsplit("LOADED", 1)
    assert loaded.strip() == "[]"
    for name, entry in LazyGroup.lazy.items():
        assert (name in listing) is not entry.hidden


def test_a_lazy_group_and_a_hidden_alias_still_run() -> None:
    runner = CliRunner()
    evals = runner.invoke(app, ["eval", "--help"], terminal_width=200)
    assert evals.exit_code == 0
    for sub in ("storypoints", "sentiment", "replay", "sprints", "delays", "life"):
        assert sub in evals.output
    alias = runner.invoke(app, ["deps", "--help"], terminal_width=200)
    assert alias.exit_code == 0 and "--project" in alias.output
    unknown = runner.invoke(app, ["nope"])
    assert unknown.exit_code == 1 and "No such command" in unknown.output


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--bogus"], "error: No such option: --bogus (see `sprintpilot --help`)"),
        (["plan", "--bogus"], "error: No such option: --bogus (see `sprintpilot plan --help`)"),
        (["nosuchcmd"], "error: No such command 'nosuchcmd' (see `sprintpilot --help`)"),
        (
            ["forecast", "--method", "magic"],
            "error: Invalid value for --method: use auto, points or throughput "
            "(see `sprintpilot forecast --help`)",
        ),
    ],
)
def test_a_usage_error_is_one_line_and_exit_1(args: list[str], line: str) -> None:
    # Before: typer's boxed panel over several lines, and exit 2, the code kept for configuration.
    result = CliRunner().invoke(app, args, terminal_width=200)
    assert result.exit_code == 1
    assert [x for x in result.output.splitlines() if x.strip()] == [line]


def test_shell_completion_is_offered_by_the_root_command_only() -> None:
    # Before: eleven lazily loaded commands listed --install-completion in their own help.
    runner = CliRunner()
    assert "--install-completion" in runner.invoke(app, ["--help"], terminal_width=200).output
    for name in ("standup", "retro", "triage", "doctor", "sandbox", "plan"):
        shown = runner.invoke(app, [name, "--help"], terminal_width=200)
        assert shown.exit_code == 0 and "--install-completion" not in shown.output, name
