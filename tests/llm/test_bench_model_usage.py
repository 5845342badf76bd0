"""`python -m evals.bench_model_usage` runs whole (`make bench` stopped at its chat part: it spoke
as "pm", which is no Asana user, and approved with no approver configured)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_model_usage_bench_runs_every_agent_and_the_chat() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "evals.bench_model_usage"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| chat: approve → applied, answer |" in done.stdout
    assert "| **all 8 agents** |" in done.stdout
    assert "Stored per run (`model_calls`) equal to the server's counts: yes." in done.stdout
