"""`/approvals` over HTTP on the production-shaped stack: Postgres app DB and checkpoints, the
embedded sandbox Asana, a planner proposal waiting at the gate, decided through the API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from graphs.runner import start_run
from service.runtime import open_runtime
from service.settings import Settings
from tests.api.conftest import API_TOKEN, APPROVER, Api

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def _plan(settings: Settings) -> dict[str, Any]:
    with open_runtime(settings) as rt:
        ws = rt.allowed_workspaces()[0]
        ctx = rt.context(actor="agent:planner", approver_gid=rt.approver_for(ws, "Product Backlog"))
        outcome = start_run(
            rt.graph, ctx, uuid.uuid4().hex, {"agent": "planner", "args": {"project": "Product Backlog"}}
        )
    assert outcome.status == "awaiting_approval" and outcome.interrupt is not None
    return outcome.interrupt


def test_approvals_need_the_token(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {API_TOKEN}"}):
        reply = httpx.get(f"{api.url}/approvals", headers=headers, timeout=10)
        assert reply.status_code == 401
        assert reply.json() == {"error": "missing or invalid API token"}
    body = {"decisions": [{"type": "approve"}], "decided_by": "mallory", "digest": "x"}
    assert httpx.post(f"{api.url}/approvals/abc", json=body, timeout=10).status_code == 401


def test_approvals_disabled_without_a_configured_token(settings: Settings, engine: Any) -> None:
    from service.api import create_api
    from service.api.server import BackgroundServer

    app = create_api(settings.model_copy(update={"api_token": None}), engine=engine)
    with BackgroundServer(app) as server:
        reply = httpx.get(f"{server.url}/approvals", headers=AUTH, timeout=10)
    assert reply.status_code == 503
    assert "SPRINTPILOT_API_TOKEN" in reply.json()["error"]


def test_list_show_approve_then_conflict(api: Api) -> None:
    request = _plan(api.settings)
    pid = request["proposal_id"]

    listed = httpx.get(f"{api.url}/approvals", headers=AUTH, timeout=60)
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["approvals"]
    assert item["proposal"]["id"] == pid and item["request"]["digest"] == request["digest"]

    shown = httpx.get(f"{api.url}/approvals/{pid}", headers=AUTH, timeout=60)
    assert shown.status_code == 200
    assert shown.json()["request"]["action_requests"] == request["action_requests"]
    assert httpx.get(f"{api.url}/approvals/nope", headers=AUTH, timeout=60).status_code == 404

    n = len(request["action_requests"])
    too_few = {
        "decisions": [{"type": "approve"}] * (n + 1),
        "decided_by": APPROVER,
        "digest": request["digest"],
    }
    refused = httpx.post(f"{api.url}/approvals/{pid}", json=too_few, headers=AUTH, timeout=120)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]

    bad_schema = {"decisions": [{"type": "maybe"}], "decided_by": APPROVER, "digest": request["digest"]}
    assert (
        httpx.post(f"{api.url}/approvals/{pid}", json=bad_schema, headers=AUTH, timeout=60).status_code == 422
    )

    # A reason longer than the console allows (500) is refused before anything is stored: it was
    # copied into every action's decision and audit rows (a 900 KB reason made 60 MB of rows).
    long_reason = {
        "decisions": [{"type": "reject", "message": "x" * 501}],
        "decided_by": APPROVER,
        "digest": request["digest"],
    }
    too_long = httpx.post(f"{api.url}/approvals/{pid}", json=long_reason, headers=AUTH, timeout=60)
    assert too_long.status_code == 422 and "500" in too_long.text, too_long.text

    # Issue 18: deciders are Asana identities on the approver list; anyone else is refused (403)
    # and audited, a free-text name as much as a real user who is not an approver.
    for who in ("mallory", "ravi.rossi@acme.example"):
        body = {"decisions": [{"type": "approve"}] * n, "decided_by": who, "digest": request["digest"]}
        denied = httpx.post(f"{api.url}/approvals/{pid}", json=body, headers=AUTH, timeout=120)
        assert denied.status_code == 403, denied.text
        assert "may not approve" in denied.json()["error"]

    body = {"decisions": [{"type": "approve"}] * n, "decided_by": APPROVER, "digest": request["digest"]}
    approved = httpx.post(f"{api.url}/approvals/{pid}", json=body, headers=AUTH, timeout=120)
    assert approved.status_code == 200, approved.text
    result = approved.json()
    assert result["status"] == "done" and result["proposal_id"] == pid
    assert result["report"] and result["report"]["status"] != "error"

    again = httpx.post(f"{api.url}/approvals/{pid}", json=body, headers=AUTH, timeout=120)
    assert again.status_code == 409
    assert httpx.get(f"{api.url}/approvals", headers=AUTH, timeout=60).json() == {"approvals": []}
