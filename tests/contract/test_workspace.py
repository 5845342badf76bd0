from __future__ import annotations

import pytest

from tests.contract.conftest import Target
from tools.asana import AsanaClient, NotFound, Unauthorized

pytestmark = pytest.mark.contract


def test_me_workspaces_users_teams(client: AsanaClient, target: Target) -> None:
    me = client.me()
    assert me.gid and me.name
    workspaces = client.workspaces()
    assert target.workspace_gid in {w.gid for w in workspaces}
    assert target.workspace_gid in {w.gid for w in me.workspaces}
    users = client.users(target.workspace_gid)
    assert me.gid in {u.gid for u in users}
    assert all(u.name for u in users)
    teams = client.teams(target.workspace_gid)
    assert all(t.gid and t.name for t in teams)
    assert client.calls.reads >= 4 and client.calls.writes == 0


def test_generated_workspace_matches_contract(client: AsanaClient, target: Target) -> None:
    target.require_sandbox("the synthetic workspace contract only holds for generated data")
    ws = next(w for w in client.workspaces() if w.gid == target.workspace_gid)
    assert ws.name == "Acme Product" and ws.is_organization
    assert "Mobile" in {t.name for t in client.teams(ws.gid)}
    assert {u.name for u in client.users(ws.gid)} >= {"sprintpilot"}
    backlog = client.find_project(ws.gid, "Product Backlog")
    names = [s.name for s in client.sections(backlog.gid)]
    assert names == ["Icebox", "Backlog", "Ready", "In Progress", "Ready for Review", "Done"]
    fmap = client.field_map(backlog.gid)
    assert {"Story Points", "Priority", "Status", "Sprint", "Risk Score"} <= set(fmap.names)
    assert [o.name for o in fmap.require("Priority").enum_options] == ["Critical", "High", "Medium", "Low"]


def test_bad_token_is_unauthorized(target: Target) -> None:
    with target.new_client() as good:
        good_me = good.me()
    from tools.asana import AsanaClient as Client

    with Client(target.base_url, "0/not-a-real-token") as bad, pytest.raises(Unauthorized) as info:
        bad.me()
    assert "not-a-real-token" not in str(info.value)
    assert good_me.gid


def test_unknown_project_is_not_found(client: AsanaClient, target: Target) -> None:
    with pytest.raises(NotFound):
        client.project("1" * 16)
    with pytest.raises(NotFound) as info:
        client.find_project(target.workspace_gid, f"no such project {id(client)}")
    assert "no project named" in str(info.value)
