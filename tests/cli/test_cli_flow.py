"""The CLI as a user drives it: plan → approvals list/show → approve/reject → audit verify.

Embedded default (SQLite + the in-process sandbox persisted under --data-dir), separate
invocations like separate shell commands.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL"):
        monkeypatch.delenv(var, raising=False)


def cli(*args: str, data_dir: Path) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)
    return result.exit_code, result.output


def plan_json(data_dir: Path, *extra: str) -> dict:
    code, out = cli("plan", "--json", *extra, data_dir=data_dir)
    assert code == 0, out
    return json.loads(out)


def test_plan_then_approve_applies_and_audits(tmp_path: Path) -> None:
    planned = plan_json(tmp_path)
    assert planned["status"] == "awaiting_approval"
    request = planned["approval_request"]
    pid = request["proposal_id"]
    assert request["approval_task_gid"]
    kinds = {r["name"] for r in request["action_requests"]}
    assert {"create_project", "create_section", "add_to_project", "set_custom_field"} <= kinds

    code, out = cli("approvals", "list", data_dir=tmp_path)
    assert code == 0 and pid[:12] in out

    code, out = cli("approvals", "show", pid[:10], data_dir=tmp_path)
    assert code == 0 and "Actions waiting for approval" in out

    code, out = cli("approvals", "approve", pid[:12], "--as", "priya.brooks@acme.example", data_dir=tmp_path)
    assert code == 0, out
    assert "run applied" in out

    code, out = cli("approvals", "list", data_dir=tmp_path)
    assert "No proposals waiting" in out
    code, out = cli("audit", "verify", data_dir=tmp_path)
    assert code == 0 and "audit log OK" in out
    code, out = cli("audit", "show", "--json", "--limit", "500", data_dir=tmp_path)
    rows = json.loads(out)
    assert any(
        r["event"] == "decision.approve" and r["actor"] == "human:cli:priya.brooks@acme.example" for r in rows
    )


def test_reject_writes_nothing_more(tmp_path: Path) -> None:
    pid = plan_json(tmp_path)["approval_request"]["proposal_id"]
    code, out = cli("approvals", "reject", pid, "--reason", "not now", data_dir=tmp_path)
    assert code == 0, out
    code, out = cli("approvals", "show", pid, "--json", data_dir=tmp_path)
    shown = json.loads(out)
    assert shown["pending_request"] is None
    assert shown["proposal"]["status"] == "rejected"
    assert {d["type"] for d in shown["decisions"]} == {"reject"}


def test_partial_approval_with_rejected_and_edited_actions(tmp_path: Path) -> None:
    request = plan_json(tmp_path)["approval_request"]
    reqs = request["action_requests"]
    assign_n = next(i for i, r in enumerate(reqs, 1) if r["name"] == "update_task")
    field_n = next(i for i, r in enumerate(reqs, 1) if r["name"] == "set_custom_field")
    people = {r["args"]["params"]["assignee"] for r in reqs if r["name"] == "update_task"}
    other = sorted(people - {reqs[assign_n - 1]["args"]["params"]["assignee"]})[0]
    edit = json.dumps({"params": {"assignee": other}})
    code, out = cli(
        "approvals",
        "approve",
        request["proposal_id"],
        "--reject-action",
        f"{field_n}:keep sprint field",
        "--edit",
        f"{assign_n}={edit}",
        data_dir=tmp_path,
    )
    assert code == 0, out
    code, out = cli("approvals", "show", request["proposal_id"], "--json", data_dir=tmp_path)
    shown = json.loads(out)
    assert shown["proposal"]["status"] == "partially_applied"
    types = sorted(d["type"] for d in shown["decisions"])
    assert "edit" in types and "reject" in types


def test_edit_that_leaves_scope_is_refused(tmp_path: Path) -> None:
    request = plan_json(tmp_path)["approval_request"]
    n = next(i for i, r in enumerate(request["action_requests"], 1) if r["name"] == "add_to_project")
    edit = json.dumps({"target": "999999999999"})
    result = runner.invoke(
        app,
        [
            "approvals",
            "approve",
            request["proposal_id"],
            "--edit",
            f"{n}={edit}",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 1
    # One error line on stderr (it was printed on stdout, where a script reads results).
    assert "refused" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: decision refused: "), result.stderr
    code, out = cli("approvals", "list", data_dir=tmp_path)
    assert request["proposal_id"][:12] in out  # still waiting, nothing applied


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("plan", "--project", "No Such Backlog"), "no project named"),
        (("plan", "--formula", "__import__('os').system('true')"), "error"),
        (("plan", "--capacity", "-3"), "error"),
        (("approvals", "approve", "deadbeef"), "no proposal"),
        (("approvals", "approve", "1", "--edit", "x=1"), "error"),
        # Walkthrough: these gave an empty plan up for approval, were ignored, clamped, or crashed.
        (("plan", "--formula", "1/0"), r"^error: the formula '1/0' divides by zero whatever the values"),
        (("plan", "--formula", " "), r"^error: invalid input — formula: the formula is empty"),
        (("plan", "--capacity", "inf"), r"^error: invalid input — capacity: Input should be a finite number"),
        (("plan", "--availability", "Priya Brooks=-3"), r"points must be a finite number ≥ 0, got -3"),
        (("audit", "show", "--limit", "99999999999999999999"), r"less than or equal to 100000"),
        (("ceremony", "planning", "--top", "0"), r"^error: top: Input should be greater than or equal to 1"),
    ],
)
def test_bad_input_gets_a_clear_error_not_a_traceback(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = runner.invoke(app, [*args, "--data-dir", str(tmp_path)])
    assert result.exit_code != 0
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in text
    flat = " ".join(text.split())  # rich wraps long lines
    assert re.search(message, flat, re.IGNORECASE), text


def test_availability_per_person_sets_the_capacity(tmp_path: Path) -> None:
    planned = plan_json(tmp_path, "--availability", "Priya Brooks=3", "--availability", "Chloe Tanaka=5")
    request = planned["approval_request"]
    assert "source: availability" in request["summary_markdown"]
    code, out = cli("approvals", "show", request["proposal_id"], "--json", data_dir=tmp_path)
    evidence = json.loads(out)["proposal"]["proposal"]["evidence"]
    per_person = evidence["capacity"]["per_person"]
    loads = {p["name"]: p for p in evidence["assignment"]["loads"]}
    # Stated availability wins for those two; everyone else keeps their historical share.
    assert sorted(v for v in per_person.values() if v in (3.0, 5.0)) == [3.0, 5.0]
    assert loads["Priya Brooks"]["assigned_points"] <= 3
    assert loads["Chloe Tanaka"]["assigned_points"] <= 5
    code, out = cli("plan", "--availability", "Nobody Here=3", data_dir=tmp_path)
    assert code != 0 and "no user" in " ".join(out.split())
