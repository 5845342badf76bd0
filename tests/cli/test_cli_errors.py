"""`friendly`: the product's errors are one line and an exit code; a bug keeps its traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from service.cli.errors import friendly
from tools.asana.errors import NotFound, RateLimited
from tools.errors import ConfigError, ConflictError, SprintpilotError, UserError

runner = CliRunner()


def _app(command: Callable[..., Any]) -> typer.Typer:
    app = typer.Typer()
    app.command()(command)
    app.command("noop")(lambda: None)  # two commands: the name is an argument, as in the real CLI
    return app


def _run(command: Callable[..., Any], *args: str) -> tuple[int, str]:
    result = runner.invoke(_app(command), [command.__name__, *args], catch_exceptions=False)
    return result.exit_code, result.output  # stdout and stderr together


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UserError("give --task GID or --project P " + "(long enough to wrap) " * 6), 1),
        (ConflictError("thread t1 is already running"), 1),
        (ConfigError("SPRINTPILOT_ASANA_TOKEN is not set"), 2),
        (SprintpilotError("a prompt file is missing"), 1),  # not a UserError: exit 1
        (FileNotFoundError(2, "No such file or directory", "missing.yaml"), 1),
    ],
)
def test_expected_errors_are_one_line_with_their_exit_code(error: Exception, code: int) -> None:
    @friendly
    def fail() -> None:
        raise error

    exit_code, out = _run(fail)
    assert exit_code == code
    assert "Traceback" not in out
    expected = "missing.yaml: No such file or directory" if isinstance(error, OSError) else str(error)
    assert _lines(out) == [f"error: {' '.join(expected.split())}"]


def test_asana_errors_are_one_line() -> None:
    @friendly
    def fail() -> None:
        raise NotFound(404, "project not found [not_found]", "GET", "/projects/123")

    exit_code, out = _run(fail)
    assert exit_code == 1
    assert _lines(out) == ["error: GET /projects/123 (404): project not found [not_found]"]

    @friendly
    def throttled() -> None:
        raise RateLimited(429, "slow down", "GET", "/tasks", retry_after=30)

    exit_code, out = _run(throttled)
    assert (exit_code, _lines(out)) == (1, ["error: GET /tasks (429): slow down"])


def test_validation_errors_name_the_field() -> None:
    from pydantic import BaseModel

    class Args(BaseModel):
        days: int

    @friendly
    def fail() -> None:
        Args.model_validate({"days": "soon"})

    exit_code, out = _run(fail)
    assert exit_code == 1
    assert _lines(out)[0].startswith("error: invalid input — days:")


def test_a_bug_raising_value_error_keeps_its_traceback() -> None:
    def helper() -> int:
        return int("not a number")  # a bug: nothing the user typed

    @friendly
    def buggy() -> None:
        helper()

    with pytest.raises(ValueError, match="invalid literal"):
        _run(buggy)
    result = runner.invoke(_app(buggy), ["buggy"])
    assert result.exit_code == 1 and isinstance(result.exception, ValueError)


def test_a_date_option_is_a_user_error_naming_the_flag() -> None:
    from service.cli.options import date_option

    @friendly
    def due(new_due: str = typer.Option(...)) -> None:
        date_option(new_due, "--new-due")

    exit_code, out = _run(due, "--new-due", "2026-13-40")
    assert exit_code == 1
    assert _lines(out) == ["error: --new-due must be a date like 2026-12-31, got '2026-13-40'"]


def test_bad_dates_and_time_zones_of_real_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.cli.main import app

    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)
    for args in (
        ["risk", "--task", "1", "--new-due", "tomorrow"],
        ["risk", "--days", "3"],
        ["eval", "storypoints", "--data", str(tmp_path), "--config", "nope"],
    ):
        result = runner.invoke(app, [*args, "--data-dir", str(tmp_path)] if args[0] == "risk" else args)
        assert result.exit_code == 1, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), args
        assert _lines(result.output)[-1].startswith("error: "), args


def test_markup_in_a_message_is_printed_as_is() -> None:
    @friendly
    def fail() -> None:
        raise UserError("[AI Proposal] comment [bold]x[/] is invalid")

    _, out = _run(fail)
    assert _lines(out) == ["error: [AI Proposal] comment [bold]x[/] is invalid"]


def test_ctrl_c_says_what_is_kept_and_an_eval_says_nothing_was_written() -> None:
    from service.cli.errors import friendly_read_only

    @friendly
    def apply() -> None:
        raise KeyboardInterrupt

    @friendly_read_only
    def evaluate() -> None:
        raise KeyboardInterrupt

    code, out = _run(apply)
    assert code == 130 and "approvals resume" in out
    # An eval pointed at `approvals resume`, though it applies nothing.
    code, out = _run(evaluate)
    assert code == 130 and _lines(out) == ["interrupted: nothing was written; run it again to start over"]
