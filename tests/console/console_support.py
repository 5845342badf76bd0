"""Helpers for the console tests: the identities used and a signed-in browser stand-in."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from graphs.runner import start_run
from service.runtime import Runtime

PRIYA = "priya.brooks@acme.example"  # the configured approver
PRIYA_GID = "1200000000000002"
RAVI = "ravi.rossi@acme.example"  # a workspace user who is not an approver
TOKEN = "tok"


@dataclass
class Console:
    client: TestClient
    rt: Runtime
    plan: dict[str, Any]  # the gate's request for the planner's proposal

    @property
    def proposal_id(self) -> str:
        return str(self.plan["proposal_id"])

    def csrf(self, page: Any) -> str:  # the TestClient's response
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    def sign_in(self, user: str = PRIYA, token: str = TOKEN, next_path: str = "/inbox") -> Any:
        form = self.client.get("/login")
        data = {"csrf": self.csrf(form), "token": token, "user": user, "next": next_path}
        return self.client.post("/login", data=data, follow_redirects=False)


def plan_proposal(rt: Runtime) -> dict[str, Any]:
    ws = rt.allowed_workspaces()[0]
    ctx = rt.context(actor="agent:planner", approver_gid=rt.approver_for(ws, "Product Backlog"))
    outcome = start_run(
        rt.graph, ctx, uuid.uuid4().hex, {"agent": "planner", "args": {"project": "Product Backlog"}}
    )
    assert outcome.status == "awaiting_approval" and outcome.interrupt is not None
    return outcome.interrupt
