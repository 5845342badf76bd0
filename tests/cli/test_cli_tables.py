"""Tables stay readable in an 80-column terminal and when piped: cells wrap instead of being cut
with "…", gids and ids are printed whole, and piped output is 100 columns wide (or $COLUMNS)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli.main import app

runner = CliRunner()
GID = re.compile(r"^\d{6,}$")


pytestmark = pytest.mark.usefixtures("offline_env")


def cli(data_dir: Path, *args: str, columns: int | None = 80) -> str:
    env = {"COLUMNS": str(columns)} if columns else None
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("│", "┃"))]


def gids_of(request: dict[str, object]) -> set[str]:
    found: set[str] = set()
    for req in request["action_requests"]:  # type: ignore[attr-defined]
        args = req.get("args") or {}
        values = [args.get("target"), *(args.get("params") or {}).values()]
        found |= {v for v in values if isinstance(v, str) and GID.match(v)}
    return found


def test_action_tables_at_80_columns_cut_nothing(tmp_path: Path) -> None:
    planned = cli(tmp_path, "plan")
    assert max(len(line) for line in planned.splitlines()) <= 80
    pid = re.search(r"approvals\s+approve\s+([0-9a-f]{12})", planned)
    assert pid is not None
    request = json.loads(cli(tmp_path, "approvals", "show", pid.group(1), "--json"))["pending_request"]
    first = {"action_requests": request["action_requests"][:15]}  # what `plan` shows
    rows = table_rows(planned)
    assert rows and not [row for row in rows if "…" in row]
    assert all(gid in planned for gid in gids_of(first))

    shown = cli(tmp_path, "approvals", "show", pid.group(1))
    assert max(len(line) for line in shown.splitlines()) <= 80
    assert not [row for row in table_rows(shown) if "…" in row]
    assert all(gid in shown for gid in gids_of(request))  # every gid, whole

    listed = cli(tmp_path, "approvals", "list")
    assert pid.group(1) in listed and request["approval_task_gid"] in listed
    assert "…" not in listed and max(len(line) for line in listed.splitlines()) <= 80

    audit = cli(tmp_path, "audit", "show", "--limit", "50")
    assert "…" not in "\n".join(table_rows(audit))

    report = cli(tmp_path, "approvals", "approve", pid.group(1))  # the apply report's table
    assert "…" not in report
    targets = {r["args"]["target"] for r in request["action_requests"]}
    assert all(gid in report for gid in targets if gid and GID.match(gid))


def test_piped_output_is_100_columns_wide(tmp_path: Path) -> None:
    planned = cli(tmp_path, "plan", columns=None)  # the CliRunner's output is not a terminal
    widths = [len(line) for line in planned.splitlines()]
    assert max(widths) == 100
    pid = re.search(r"approvals\s+approve\s+([0-9a-f]{12})", planned)
    assert pid is not None
    shown = cli(tmp_path, "approvals", "show", pid.group(1), columns=None)
    header = next(row for row in table_rows(shown) if " action " in row)
    assert " why " in header  # wide enough for every column
    wide = cli(tmp_path, "approvals", "show", pid.group(1), columns=130)
    assert max(len(line) for line in wide.splitlines()) == 130  # $COLUMNS wins


def _printed(table: object, width: int) -> str:
    import io

    from service.cli.render import CliConsole

    out = io.StringIO()
    CliConsole(file=out, width=width, color_system=None).print(table)
    return out.getvalue()


def _eval_like_table(columns: int) -> object:
    from rich.table import Table

    table = Table(title="Deep-SE projects — test-split MAE")
    for i in range(columns):
        table.add_column(f"configuration {i}\nMAE", justify="right")
    table.add_row(*[f"{1 + i / 100:.2f}" for i in range(columns)])
    table.add_row(*[f"project-name-{i}" for i in range(columns)])
    return table


def test_a_wide_eval_table_is_never_cut() -> None:
    # Before: the evals' 13-column tables printed "me…", "1.…" at 80 (and 100) columns.
    text = _printed(_eval_like_table(13), 80)
    assert "…" not in text
    assert "configuration 12 MAE:" in text and "project-name-12" in text and "1.12" in text
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80


def test_a_table_that_fits_keeps_its_grid_and_folds_long_cells() -> None:
    text = _printed(_eval_like_table(3), 80)
    assert table_rows(text) and "…" not in text
    assert "project-name-2" in text
