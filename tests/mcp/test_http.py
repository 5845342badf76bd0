"""Issue 20 over streamable HTTP: `/mcp/` on `serve`'s app, the SDK's client with a bearer token
that Asana (the sandbox) vouches for; approving over MCP enabled, with elicitation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitResult
from mcp_world import CONFIDENTIAL, SECRET, World, applied_count, serving_api

pytestmark = pytest.mark.integration


async def _as(url: str, token: str, calls: Any, confirm: bool = True) -> Any:
    async def elicit(_ctx: Any, params: Any) -> ElicitResult:
        assert "proposal" in params.message
        return ElicitResult(action="accept", content={"confirm": confirm})

    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
        transport = streamable_http_client(f"{url}/mcp/", http_client=http)
        async with Client(transport, elicitation_callback=elicit, read_timeout_seconds=120) as client:
            return await calls(client)


def test_http_tools_identity_scope_and_approval_over_mcp(world: World, tmp_path: Path) -> None:
    settings = world.settings(tmp_path / "data", mcp_approvals=True)
    with serving_api(settings) as url:
        # No token, or one Asana refuses: 401 with where to get one (RFC 9728 metadata).
        bare = httpx.post(f"{url}/mcp/", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert bare.status_code == 401 and "resource_metadata" in bare.headers["www-authenticate"]
        meta = httpx.get(f"{url}/.well-known/oauth-protected-resource/mcp/").json()
        # The configured Asana (here the sandbox, itself an OAuth server) issues the tokens.
        origin = "/".join(world.server.base_url.split("/")[:3])
        assert meta["authorization_servers"] == [origin]

        async def ravi(client: Client) -> dict[str, Any]:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            secret = await client.call_tool("estimate", {"project": SECRET})
            forecast = await client.call_tool("forecast", {"project": "Product Backlog"})
            plan = await client.call_tool("plan_sprint", {"project": "Product Backlog"})
            pid = plan.structured_content["proposal_id"]
            repeat = await client.call_tool("plan_sprint", {"project": "Product Backlog"})
            refused = await client.call_tool("approve_proposal", {"proposal_id": pid, "decision": "approve"})
            return {
                "tools": tools,
                "secret": secret,
                "forecast": forecast,
                "plan": plan,
                "repeat": repeat,
                "refused": refused,
            }

        got = anyio.run(_as, url, "pat-ravi", ravi)
        assert "approve_proposal" in got["tools"]
        assert got["tools"]["estimate"].input_schema["properties"]["task"]
        assert got["secret"].is_error and "no project named" in got["secret"].content[0].text
        assert CONFIDENTIAL not in got["secret"].content[0].text
        assert got["forecast"].structured_content["evidence"]["scope.items"] > 0
        pid = got["plan"].structured_content["proposal_id"]
        assert got["plan"].structured_content["status"] == "awaiting_approval"
        # The same plan again proposes nothing and points at the one already waiting.
        repeat = got["repeat"].structured_content
        assert repeat["status"] == "no_changes" and repeat["already_waiting"] == pid, repeat
        assert repeat["approve_at"]["console_url"].endswith(pid)
        assert f"already wait in proposal {pid[:12]}" in got["repeat"].content[0].text
        # Ravi is no approver: refused by the shared rule, nothing applied.
        assert got["refused"].is_error and "not allowed to decide" in got["refused"].content[0].text
        assert applied_count(settings, pid) == 0

        async def priya(client: Client) -> dict[str, Any]:
            pending = await client.read_resource("sprintpilot://proposals/pending")
            first = await client.call_tool("approve_proposal", {"proposal_id": pid, "decision": "approve"})
            again = await client.call_tool("approve_proposal", {"proposal_id": pid, "decision": "approve"})
            audit = await client.read_resource("sprintpilot://audit/recent")
            return {"pending": pending, "first": first, "again": again, "audit": audit}

        got = anyio.run(_as, url, "pat-priya", priya)
        assert pid in got["pending"].contents[0].text
        assert not got["first"].is_error, got["first"].content
        assert got["first"].structured_content["decided_by"] == "mcp:priya.brooks@acme.example"
        assert got["again"].is_error and "already decided by mcp:priya" in got["again"].content[0].text
        assert (
            "action.applied" in got["audit"].contents[0].text
            and CONFIDENTIAL not in got["audit"].contents[0].text
        )
        applied = applied_count(settings, pid)
        assert applied > 0

        async def nobody(client: Client) -> None:
            await client.list_tools()

        with pytest.raises((MCPError, httpx2.HTTPStatusError, Exception)):
            anyio.run(_as, url, "not-a-token", nobody)
    assert applied_count(settings, pid) == applied  # exactly once
