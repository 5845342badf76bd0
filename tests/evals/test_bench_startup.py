"""The start-up benchmark runs both commands and prints each beside the other (issue 23)."""

from __future__ import annotations

import pytest

from evals.bench_startup import main


def test_prints_sprintpilot_beside_the_bare_typer_app(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "| sprintpilot --help | 1 |" in out and "| bare typer app --help | 1 |" in out
    assert "sprintpilot / bare typer (medians):" in out and "goal --help < 0.3 s" in out


def test_refuses_no_runs() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--runs", "0"])
    assert exited.value.code == 2
