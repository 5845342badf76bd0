"""Issue 18: a free (non-premium) workspace answers 402 on premium-only features, as Asana does."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from sandbox.errors import HELP
from sandbox.premium import PAYMENT_REQUIRED_MESSAGE, premium_feature
from sandbox.server import SandboxServer
from sandbox.store import Store
from tests.sandbox.conftest import Mini
from tools.asana import AsanaClient, RetryPolicy
from tools.asana.errors import PaymentRequired

pytestmark = pytest.mark.integration


def _plan(server: SandboxServer, plan: str) -> httpx.Response:
    return httpx.put(
        f"{server.root_url}/__sandbox/plan",
        json={"plan": plan},
        headers={"Authorization": f"Bearer {server.token}"},
    )


def test_free_plan_answers_402_on_premium_features_only(
    server: SandboxServer, http: httpx.Client, mini: Mini
) -> None:
    task = http.get(f"/projects/{mini.project}/tasks").json()["data"][0]["gid"]
    assert http.get(f"/tasks/{task}/dependencies").status_code == 200  # paid by default
    assert _plan(server, "free").json() == {"data": {"plan": "free"}}
    refused = http.get(f"/tasks/{task}/dependencies")
    assert refused.status_code == 402
    assert refused.json() == {"errors": [{"message": PAYMENT_REQUIRED_MESSAGE, "help": HELP}]}
    new_field = {"data": {"workspace": mini.ws, "name": "Effort", "resource_subtype": "number"}}
    assert http.post("/custom_fields", json=new_field).status_code == 402
    add = {"data": {"custom_field": mini.fields["unused"]}}
    assert http.post(f"/projects/{mini.project}/addCustomFieldSetting", json=add).status_code == 402
    assert http.get("/portfolios", params={"workspace": mini.ws, "owner": "me"}).status_code == 402
    # Everything else works as before: tasks, existing fields and their values.
    assert http.get(f"/tasks/{task}").status_code == 200
    assert http.get(f"/projects/{mini.project}/custom_field_settings").status_code == 200
    # No token: 401 first, as Asana.
    assert httpx.get(f"{server.base_url}/tasks/{task}/dependencies").status_code == 401
    assert mini.store.stats.count("GET", "/tasks/{task_gid}/dependencies") >= 2  # 402s are counted
    assert _plan(server, "paid").json() == {"data": {"plan": "paid"}}
    assert http.get(f"/tasks/{task}/dependencies").status_code == 200
    assert _plan(server, "gold").status_code == 400


def test_client_maps_the_402_to_payment_required(server: SandboxServer, mini: Mini) -> None:
    _plan(server, "free")
    with AsanaClient(server.base_url, server.token, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(PaymentRequired, match="needs a paid Asana plan: custom fields"):
            client.add_custom_field_to_project(mini.project, mini.fields["unused"])
        assert client.calls.snapshot().retries == 0


def test_plan_is_saved_with_the_state(tmp_path: Path, mini: Mini) -> None:
    from sandbox.premium import plan_of, set_plan

    set_plan(mini.store, "free")
    mini.store.save(tmp_path / "s.json")
    assert plan_of(Store.load(tmp_path / "s.json")) == "free"
    with pytest.raises(ValueError, match="plan must be one of"):
        set_plan(mini.store, "enterprise")


def test_cli_rejects_an_unknown_plan() -> None:
    import typer

    from sandbox.cli import run_sandbox

    app = typer.Typer()
    app.command()(run_sandbox)
    result = CliRunner().invoke(app, ["--plan", "gold", "--port", "0"])
    assert result.exit_code == 2
    assert "--plan must be one of" in result.output


@pytest.mark.parametrize(
    ("method", "path", "feature"),
    [
        ("POST", "/tasks/1/addDependencies", "task dependencies"),
        ("GET", "/workspaces/1/tasks/search", "advanced search"),
        ("PUT", "/custom_fields/5", "custom fields"),
        ("POST", "/portfolios/9/addItem", "portfolios"),
        ("GET", "/tasks/1", None),
        ("GET", "/custom_fields/5", None),
        ("GET", "/workspaces/1/custom_fields", None),
    ],
)
def test_premium_table(method: str, path: str, feature: str | None) -> None:
    assert premium_feature(method, path) == feature
    assert json.dumps(feature)  # names are plain strings


def test_expired_offsets_restart_the_walk_against_the_sandbox(server: SandboxServer, mini: Mini) -> None:
    """Issue 18: `POST /__sandbox/offsets/expire` between two pages; the walk restarts once."""
    import asana as sdk

    expired = {"done": False}
    with AsanaClient(server.base_url, server.token, page_size=2) as client:
        api = client.api(sdk.TasksApi)

        def send(opts: dict[str, object], kw: dict[str, object]) -> object:
            if "offset" in opts and not expired["done"]:
                expired["done"] = True
                httpx.post(
                    f"{server.root_url}/__sandbox/offsets/expire",
                    headers={"Authorization": f"Bearer {server.token}"},
                ).raise_for_status()
            return api.get_tasks_for_project(mini.project, opts, **kw)

        rows = client._pages("GET /projects/{gid}/tasks", send, "name", gid=mini.project)
        restarted = client.calls.snapshot().total
    assert expired["done"]
    assert len(rows) == len({r["gid"] for r in rows}) == 5
    assert restarted == 5  # p1, p2 refused, p1 p2 p3
