"""`--data-dir`, SPRINTPILOT_DATA_DIR and `sandbox --state` are checked up front (issue 18,
"Inputs"): a system directory (/etc, /proc, …), a file, or a folder we cannot write is one line
and exit 2, and nothing is created there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli.main import app
from tools.paths import system_directory, writable_dir_problem

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("offline_env")


def _one_line(args: list[str], env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.mark.parametrize("folder", ["/etc", "/proc", "/proc/self", "/sys/kernel", "/dev", "/", "/usr"])
def test_a_system_directory_as_data_dir_is_refused(folder: str) -> None:
    before = set(os.listdir(folder)) if folder in {"/etc", "/"} else None
    line = _one_line(["plan", "--data-dir", folder])
    assert f"{folder} is a system directory" in line and "--data-dir" in line
    if before is not None:
        assert set(os.listdir(folder)) == before  # no database, key or state file created


def test_the_environment_variable_is_checked_too() -> None:
    line = _one_line(["plan"], env={"SPRINTPILOT_DATA_DIR": "/etc"})
    assert "SPRINTPILOT_DATA_DIR" in line and "/etc is a system directory" in line


def test_a_file_as_data_dir_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    assert f"{f} is not a directory" in _one_line(["plan", "--data-dir", str(f)])


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_folder_we_cannot_write_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert "is not writable" in _one_line(["plan", "--data-dir", str(locked / "data")])


def test_folders_of_our_own_are_accepted(tmp_path: Path) -> None:
    assert writable_dir_problem(tmp_path) is None
    assert writable_dir_problem(tmp_path / "not" / "yet") is None
    assert not system_directory(Path("/var/lib/sprintpilot"))
    assert system_directory(Path("/etc/sprintpilot")) and system_directory(Path("/var"))


@pytest.mark.parametrize("state", ["/etc/state.json", "/proc/state.json", "/proc/1/x/state.json"])
def test_sandbox_state_in_a_system_directory_is_refused(tmp_path: Path, state: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPRINTPILOT_")}
    result = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "sandbox", "--port", "0", "--state", state],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**env, "SPRINTPILOT_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "80"},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: --state {state}: "), result.stderr
    assert "is a system directory" in lines[0]
    assert not Path(state).exists()


def test_doctor_refuses_a_data_dir_as_every_command_does(tmp_path: Path) -> None:
    # Before: doctor ran, then its embedded sandbox died saving state there, with a traceback.
    f = tmp_path / "file"
    f.write_text("x")
    assert f"{f} is not a directory" in _one_line(["doctor", "--data-dir", str(f)])
    assert "/etc is a system directory" in _one_line(["doctor", "--data-dir", "/etc"])
