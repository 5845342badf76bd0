"""Configuration the CLI cannot work with is one line on stderr and exit 2 (tools/errors.py:
ConfigError), never a traceback: a database that does not exist or cannot be reached, an unknown
time zone (flag or SPRINTPILOT_TIMEZONE). Bad arguments of agent commands are one line, exit 1."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli.main import app

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("offline_env")


def _one_line(args: list[str], code: int, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert "Traceback" not in result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def test_db_migrate_on_a_database_that_does_not_exist_says_how_to_create_it(pg_admin_url: str) -> None:
    name = f"does_not_exist_{uuid.uuid4().hex[:8]}"
    url = f"{pg_admin_url.rsplit('/', 1)[0]}/{name}"
    line = _one_line(["db", "migrate"], 2, env={"SPRINTPILOT_DATABASE_URL": url})
    assert f'database "{name}" does not exist on 127.0.0.1:5432' in line
    assert f"createdb -h 127.0.0.1 -p 5432 -U postgres {name}" in line


def test_a_database_server_that_is_down_is_one_line_for_every_command(tmp_path: Path) -> None:
    env = {"SPRINTPILOT_DATABASE_URL": "postgresql://sp:secret@127.0.0.1:1/sprintpilot"}
    for args in (["db", "migrate"], ["approvals", "list", "--data-dir", str(tmp_path)]):
        line = _one_line(args, 2, env=env)
        assert "cannot reach the database at 127.0.0.1:1" in line, line
        assert "SPRINTPILOT_DATABASE_URL" in line and "secret" not in line


def test_an_unknown_time_zone_is_configuration(tmp_path: Path) -> None:
    line = _one_line(
        ["standup", "--project", "Sprint 23", "--timezone", "Mars/Olympus", "--data-dir", str(tmp_path)], 2
    )
    assert line == "error: --timezone: unknown time zone 'Mars/Olympus'; use an IANA name like Europe/Paris"
    line = _one_line(["config"], 2, env={"SPRINTPILOT_TIMEZONE": "Mars/Olympus"})
    assert line == "error: invalid settings — SPRINTPILOT_TIMEZONE: unknown timezone 'Mars/Olympus'"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["forecast", "--project", "Nope"], "no project named 'Nope'"),
        (["health", "--window", "0"], "window: Input should be greater than or equal to 1"),
    ],
)
def test_bad_agent_arguments_are_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    assert expected in _one_line([*args, "--data-dir", str(tmp_path)], 1)


@pytest.mark.parametrize("variable", ["SPRINTPILOT_APPROVAL_POLICY", "SPRINTPILOT_CEREMONY_TIMES"])
def test_a_json_setting_that_does_not_parse_is_configuration(variable: str) -> None:
    # pydantic-settings decodes JSON settings before validating them, with an error of its own.
    line = _one_line(["config"], 2, env={variable: "{bad json"})
    assert line.startswith(f"error: {variable} is not valid JSON ("), line


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SPRINTPILOT_REDIS_URL", "garbage", "needs a redis://, rediss:// or unix:// URL, got 'garbage'"),
        ("SPRINTPILOT_TRUSTED_PROXIES", "10.0.0.1,garbage", "'garbage' is not an IP address or CIDR network"),
    ],
)
def test_settings_that_fail_later_are_refused_up_front(variable: str, value: str, expected: str) -> None:
    # Before: accepted, then the worker's first connection (Redis) or every API request (proxies) failed.
    line = _one_line(["config"], 2, env={variable: value})
    assert line == f"error: invalid settings — {variable}: {expected}"


def test_a_base_url_without_a_scheme_is_refused_and_an_empty_one_is_unset() -> None:
    line = _one_line(["config"], 2, env={"SPRINTPILOT_ASANA_BASE_URL": "notaurl"})
    assert line == (
        "error: invalid settings — SPRINTPILOT_ASANA_BASE_URL: "
        "needs an http:// or https:// URL, got 'notaurl'"
    )
    result = runner.invoke(app, ["config"], env={"SPRINTPILOT_ASANA_BASE_URL": ""})
    assert result.exit_code == 0, result.output


def test_an_openai_model_without_a_key_is_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: openai's own "Missing credentials" error, a 65-line traceback in every agent command.
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("SPRINTPILOT_MODEL_API_KEY", raising=False)
    line = _one_line(["forecast", "--data-dir", str(tmp_path)], 2, env={"SPRINTPILOT_MODEL": "openai:gpt-4o"})
    assert line == (
        "error: SPRINTPILOT_MODEL=openai:gpt-4o needs an API key: set SPRINTPILOT_MODEL_API_KEY "
        "(or OPENAI_API_KEY)"
    )


@pytest.mark.parametrize("variable", ["SPRINTPILOT_REDIS_URL", "SPRINTPILOT_MODEL", "SPRINTPILOT_TIMEZONE"])
def test_an_empty_variable_reads_as_unset(variable: str) -> None:
    result = runner.invoke(app, ["config"], env={variable: ""})
    assert result.exit_code == 0, result.output
