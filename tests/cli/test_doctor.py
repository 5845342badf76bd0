"""`sprintpilot doctor` against the embedded sandbox: healthy → exit 0; a free plan and a project
missing fields → the fix list and exit 1; a token Asana refuses → one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from sandbox.premium import set_plan
from sandbox.server import SandboxServer
from sandbox.store import Store
from service.cli.main import app
from service.doctor import clock_check, webhook_check
from service.embedded import EmbeddedSandbox
from tools.asana.field_names import RISK_SCORE

runner = CliRunner()


def _records(store: Store, kind: str) -> list[Any]:
    return list(store.tables[kind].values())


pytestmark = pytest.mark.usefixtures("offline_env")


def doctor(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["doctor", "--data-dir", str(data_dir), *args])
    return result.exit_code, result.output


def test_healthy_workspace_exits_0(tmp_path: Path) -> None:
    code, out = doctor(tmp_path, "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["ok"] is True and report["fixes"] == []
    names = [c["name"] for c in report["checks"]]
    assert names[:3] == ["asana token", "workspaces", "token scopes"]
    assert {"custom fields", "asana plan", "webhooks", "clock", "database", "broker"} <= set(names)
    assert all(c["status"] == "ok" for c in report["checks"])


def test_free_plan_and_missing_fields_give_fixes_and_exit_1(tmp_path: Path) -> None:
    with EmbeddedSandbox(tmp_path) as sandbox:
        set_plan(sandbox.store, "free")
        store = sandbox.store
        sprint = next(p for p in _records(store, "project") if p.name == "Sprint 23")
        risk = next(f for f in _records(store, "custom_field") if f.name == RISK_SCORE)
        removed = httpx.post(
            f"{sandbox.base_url}/projects/{sprint.gid}/removeCustomFieldSetting",
            json={"data": {"custom_field": risk.gid}},
            headers={"Authorization": f"Bearer {sandbox.token}"},
        )
        assert removed.status_code == 200, removed.text
    code, out = doctor(tmp_path)
    assert code == 1, out
    text = " ".join(out.split())
    assert "FAIL" in text and "missing Risk Score (needed by risk, triage)" in text
    assert "free plan: needs a paid Asana plan: portfolios" in text
    assert "Fixes: 1. add 'Risk Score' to project 'Sprint 23'" in text
    assert "2. upgrade the Asana workspace to a paid plan" in text


def test_approvers_named_by_free_text_are_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: `SPRINTPILOT_CHAT_APPROVERS=priya` decided nothing anywhere; doctor says why."""
    monkeypatch.setenv("SPRINTPILOT_APPROVERS", "priya.brooks@acme.example,1200000000000004")
    code, out = doctor(tmp_path, "--json")
    assert code == 0, out
    monkeypatch.setenv("SPRINTPILOT_CHAT_APPROVERS", "priya")
    code, out = doctor(tmp_path, "--json")
    assert code == 1, out
    check = next(c for c in json.loads(out)["checks"] if c["name"] == "approvers")
    assert check["status"] == "FAIL" and "priya" in check["detail"] and "email or gid" in check["fix"]


def test_bad_token_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sandbox.generator import generate_workspace

    ws = generate_workspace(7)
    with SandboxServer(ws.store, ws.token) as server:
        monkeypatch.setenv("SPRINTPILOT_ASANA_BASE_URL", server.base_url)
        monkeypatch.setenv("SPRINTPILOT_ASANA_TOKEN", "not-a-token")
        code, out = doctor(tmp_path)
    assert code == 2
    assert out.strip().splitlines() == [
        f"error: Asana refused the token (401 Not Authorized) at {server.base_url}: set a valid "
        "SPRINTPILOT_ASANA_TOKEN"
    ]


def test_clock_and_webhook_checks() -> None:
    assert clock_check(5).status == "ok"
    assert clock_check(-300).status == "warn" and "NTP" in (clock_check(-300).fix or "")
    assert webhook_check(None).detail.startswith("not configured")
    assert webhook_check("http://example.test/hook").status == "FAIL"
