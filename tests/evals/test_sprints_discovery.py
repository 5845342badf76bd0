"""`eval sprints` finds whatever projects a folder holds (not only the four shared ones or Spring XD)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from evals.datasets.sprints import discover_koralage, discover_tse2017
from evals.sprints import format_table, run
from tests.evals.synthetic import koralage_dir
from tools.errors import UserError
from tools.forecast.delivery import DEFAULT_VARIANT

ITER_COLS = (
    "boardid,sprintid,name,vel_diff,planday,no_issue_starttime,vel_starttime,no_issue_added,vel_added,"
    "no_issue_removed,vel_removed,no_issuetodo,vel_todo,no_issueinprogress,vel_inprogress,no_issuedone,"
    "vel_done,no_admin,no_teammember"
)
ISSUE_COLS = (
    "boardid,sprintid,type,priority,no_comment,no_affectversion,no_fixversion,no_issuelink,no_blocking,"
    "no_blockedby,no_fixversion_change,no_priority_change,no_des_change,gunning_fog"
)


def write_tse(folder: Path, stem: str, n: int = 40) -> None:
    """Synthetic TSE2017-format rows (not copied data): blocked issues cost delivered points."""
    rng = np.random.default_rng(3)
    folder.mkdir(parents=True)
    its, issues = [ITER_COLS], [ISSUE_COLS]
    for i in range(n):
        start, blocked = int(rng.integers(10, 30)), int(rng.integers(0, 4))
        its.append(f"{i % 2},{i},S {i},{-3 * blocked},14,5,{start},0,0,0,0,5,{start},0,0,0,0,1,4")
        issues.append(f"{i % 2},{i},Bug,Major,{blocked},0,1,{blocked},{blocked},0,0,0,0,easy")
    for t in (0, 30):
        (folder / f"{stem}_iteration_{t}.csv").write_text("\n".join(its) + "\n")
        (folder / f"{stem}_issue_{t}.csv").write_text("\n".join(issues) + "\n")


def held_out_like(root: Path) -> Path:
    """Other project names than the shared data: TSE2017 'Zeta', Koralage 'Orbit' and 'Nova'."""
    write_tse(root / "sprints" / "tse2017" / "Zeta", "zeta")
    for name in ("Orbit", "Nova"):
        tiny = koralage_dir(root / name.lower(), sprints=6)
        target = root / "sprints" / "koralage2020" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tiny.rename(target)
    return root


def test_discovery_finds_projects_by_folder(tmp_path: Path) -> None:
    data = held_out_like(tmp_path)
    (tse,) = discover_tse2017(data)
    assert (tse.project, tse.stem) == ("Zeta", "zeta")
    assert [f.name for f in discover_koralage(data)] == ["Nova", "Orbit"]


def test_run_on_other_projects_without_spring_xd(tmp_path: Path) -> None:
    data = held_out_like(tmp_path)
    summary = run(data, variants=(DEFAULT_VARIANT,))
    assert summary["found"] == {"tse2017": ["Zeta"], "koralage": ["Nova", "Orbit"]}
    assert {(r["project"], r["time"]) for r in summary["projects"]} == {("Zeta", 0), ("Zeta", 30)}
    # calibration runs on every Koralage project found: 6 sprints, forecast from the 4th on
    assert [c["project"] for c in summary["calibrations"]] == ["Nova", "Orbit"]
    assert all(c["forecasts"] == 3 for c in summary["calibrations"])
    assert summary["paper_iqr_30"] == {"Zeta": None}  # no published IQR: shown as "-"
    text = format_table(summary)
    assert "TSE2017 Zeta; Koralage Nova, Orbit" in text
    assert "Forecast calibration (Orbit" in text and "model / best naive cv 30%" in text


def test_projects_option_narrows_and_rejects_unknown(tmp_path: Path) -> None:
    data = held_out_like(tmp_path)
    summary = run(data, ["orbit"], variants=(DEFAULT_VARIANT,))
    assert summary["projects"] == [] and [c["project"] for c in summary["calibrations"]] == ["Orbit"]
    assert "no TSE2017 project selected" in format_table(summary)
    with pytest.raises(UserError, match="not found under .*Apache.*found: Zeta, Nova, Orbit"):
        run(data, ["Apache"])


def _cli() -> typer.Typer:
    from service.cli.eval_sprints import sprints

    app = typer.Typer()
    app.command("sprints")(sprints)
    app.command("noop")(lambda: None)
    return app


@pytest.mark.parametrize("case", ["missing", "empty", "file"])
def test_cli_bad_folder_is_one_line(tmp_path: Path, case: str) -> None:
    target = tmp_path / "x"
    if case == "empty":
        target.mkdir()
    elif case == "file":
        target.write_text("no")
    out = CliRunner().invoke(_cli(), ["sprints", "--data", str(target)])
    assert out.exit_code != 0
    assert "Traceback" not in out.output and out.exception is None or isinstance(out.exception, SystemExit)
    expected = {"missing": "dataset folder not found", "empty": "no sprint projects", "file": "not a folder"}
    assert expected[case] in out.output


def test_module_main_bad_folder_exits_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from evals.sprints import main

    with pytest.raises(SystemExit) as exc:
        main(["--data", str(tmp_path / "nope")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dataset folder not found" in err


def test_variants_option(tmp_path: Path) -> None:
    from evals.sprints import pick_variants
    from tools.forecast.delivery import VARIANTS

    assert pick_variants("") == VARIANTS
    assert pick_variants("Sequence History") == (DEFAULT_VARIANT,)
    with pytest.raises(UserError, match="--variants: unknown nope"):
        pick_variants("nope")
    data = held_out_like(tmp_path)
    args = ["sprints", "--data", str(data), "--variants", "sequence history", "--no-calibration"]
    out = CliRunner().invoke(_cli(), args)
    assert out.exit_code == 0, out.output
    assert "Zeta" in out.output and "[chosen: sequence history x10]" in out.output
