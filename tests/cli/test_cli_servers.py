"""`serve` and `sandbox` fail as one line on a taken port; `sandbox --state` never loses or
overwrites state: a corrupt file is refused untouched, a missing folder is created up front."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.store import Store

CLI = [sys.executable, "-m", "service.cli.main"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPRINTPILOT_")}
    return {**env, "SPRINTPILOT_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "80"}


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """A server command in the background, its output piped (close with `communicate`)."""
    return subprocess.Popen(
        [*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=_env(tmp_path)
    )


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=120, cwd=ROOT, env=_env(tmp_path)
    )


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    return lines[0]


@pytest.mark.parametrize("command", ["serve", "sandbox"])
def test_a_taken_port_is_one_line(tmp_path: Path, taken_port: int, command: str) -> None:
    result = _run(tmp_path, command, "--port", str(taken_port))
    assert result.returncode != 0
    assert _one_error_line(result) == (
        f"error: port {taken_port} on 127.0.0.1 is in use; pick another with --port"
    )


@pytest.mark.parametrize("command", ["serve", "sandbox"])
def test_a_port_out_of_range_is_one_line(tmp_path: Path, command: str) -> None:
    # Before: `serve --port 99999` said it was running and listened elsewhere (the number wrapped);
    # `sandbox` died with an OverflowError traceback.
    result = _run(tmp_path, command, "--port", "99999")
    assert result.returncode == 1
    assert _one_error_line(result) == "error: --port must be a TCP port from 0 to 65535, got 99999"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"format": 1, "records"', "not JSON"),
        ('{"format": 1}', "no 'records' in it"),
        ('{"format": 99}', "unsupported sandbox state format 99"),
        ("[1, 2]", "is not a saved sandbox state"),
    ],
)
def test_a_corrupt_state_file_is_refused_and_left_untouched(
    tmp_path: Path, content: str, reason: str
) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)
    result = _run(tmp_path, "sandbox", "--port", "0", "--state", str(state))
    assert result.returncode == 1
    line = _one_error_line(result)
    assert str(state) in line and reason in line and "left untouched" in line
    assert state.read_text() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]  # no .tmp either


def test_a_state_in_a_missing_folder_is_saved_at_shutdown_and_loads_again(tmp_path: Path) -> None:
    state = tmp_path / "not" / "there" / "state.json"
    proc = _start(tmp_path, "sandbox", "--port", "0", "--state", str(state))
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        base_url = lines[0].split(": ", 1)[1].strip()
        token = lines[1].split(":", 1)[1].strip()
        assert state.exists()  # the folder was created and the fresh state written up front
        task_gid = next(iter(Store.load(state).tasks))
        renamed = httpx.put(
            f"{base_url}/tasks/{task_gid}",
            json={"data": {"name": "renamed before shutdown"}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert renamed.status_code == 200, renamed.text
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert f"State saved to {state}" in out
    again = Store.load(state)
    assert again.tasks[task_gid].name == "renamed before shutdown"
    # ...and `sandbox --state` serves it again.
    from sandbox.cli import build_store

    store, reloaded_token = build_store(7, state)
    assert reloaded_token == token and store.tasks[task_gid].name == "renamed before shutdown"


def test_serve_on_port_0_names_the_port_it_serves_on(tmp_path: Path) -> None:
    # Before: "sprintpilot API on http://127.0.0.1:0".
    proc = _start(tmp_path, "serve", "--port", "0")
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)", banner)
        assert found and found.group(1) != "0", banner
        url = f"http://127.0.0.1:{found.group(1)}/healthz"
        for _ in range(100):
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("serve did not answer on the port it named")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)  # waits and closes both pipes
