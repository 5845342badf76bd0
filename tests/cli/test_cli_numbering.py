"""One action numbering everywhere a human reads or types it: from 1, by the action's place in
the proposal — `approvals show`, `--reject-action N` / `--edit N=JSON`, the apply report and its
"depends on action #N" notes, the chat's `approve N`. (The report used to count from 0.)"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from graphs.chat.grammar import DecisionCommand
from graphs.chat.offline import decisions_for
from graphs.chat.resolve import ChatError
from service.approvals import ApprovalError, build_decisions
from service.cli.main import app
from service.cli.render import approval_table

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("offline_env")


def cli(data_dir: Path, *args: str) -> str:
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_show_approve_and_the_apply_report_use_the_same_numbers(tmp_path: Path) -> None:
    request = json.loads(cli(tmp_path, "plan", "--json"))["approval_request"]
    numbers = [i + 1 for i in request["action_indices"]]
    pairs = zip(numbers, request["action_requests"], strict=True)
    n = next(num for num, r in pairs if r["name"] == "create_section")

    shown = cli(tmp_path, "approvals", "show", request["proposal_id"])
    assert re.search(rf"│\s+1 │ {request['action_requests'][0]['name']} ", shown)
    assert re.search(rf"│\s+{n} │ create_section ", shown)

    report = cli(tmp_path, "approvals", "approve", request["proposal_id"], "--reject-action", f"{n}:not now")
    rows = {
        int(m.group(1)): (m.group(2), m.group(3))
        for m in re.finditer(r"^\s*(\d+)\s+(\w+)\s+\S+\s+(\w+)", report, re.MULTILINE)
    }
    assert min(rows) == 1 and 0 not in rows
    assert rows[1][0] == request["action_requests"][0]["name"]
    assert rows[n] == ("create_section", "rejected")
    assert f"depends on action #{n}, which was rejected" in report


def _request() -> dict[str, object]:
    """Actions 1, 3 and 4 wait for approval; action 2 applies without it."""
    reqs = [
        {"name": "create_section", "args": {"target": "1200000000000040", "params": {"name": "To Do"}}},
        {"name": "update_task", "args": {"target": "1200000000000285", "params": {"assignee": "7"}}},
        {"name": "update_task", "args": {"target": "1200000000000286", "params": {"assignee": "8"}}},
    ]
    return {"action_requests": reqs, "action_indices": [0, 2, 3], "proposal_id": "p1"}


def test_numbers_skip_the_actions_that_apply_without_approval() -> None:
    request = _request()
    decisions = build_decisions(request, reject={3: "no"}, edits={4: '{"params": {"assignee": "9"}}'})
    assert [d.type for d in decisions] == ["approve", "reject", "edit"]
    with pytest.raises(ApprovalError, match=r"action number 2 is out of range: .* are 1, 3-4"):
        build_decisions(request, reject={2: ""})

    chat = decisions_for(DecisionCommand("reject", [3]), request)
    assert [d["type"] for d in chat] == ["approve", "reject", "approve"]
    with pytest.raises(ChatError, match="out of range"):
        decisions_for(DecisionCommand("approve", [2]), request)

    out = io.StringIO()
    Console(file=out, width=120).print(approval_table(request, width=120))
    numbers = [int(m.group(1)) for m in re.finditer(r"^│\s+(\d+) │", out.getvalue(), re.MULTILINE)]
    assert numbers == [1, 3, 4]
    assert "missing numbers are actions that apply without approval" in out.getvalue()
