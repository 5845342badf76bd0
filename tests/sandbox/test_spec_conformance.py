"""Sandbox ↔ asana_oas.yaml conformance, generated for every endpoint the Asana client calls (issue 18).

The endpoints come from the client's call labels (tests/sandbox/spec_model.py); per endpoint the spec
gives the checks: `response` (success status + JSON Schema of the body), `required:<name>` (omitting a
required query parameter / body field → 400), `enum:<name>` (a value outside an enum the product
sends → 400) and, for GETs, `opt_in` (no opt-in field without opt_fields). Each check seeds its own
objects through the sandbox's API (`RECIPES`); a new client call without a recipe fails here.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jsonschema
import pytest

from sandbox.server import SandboxServer
from tests.sandbox.conftest import FAST_HOOKS, Mini, build_mini
from tests.sandbox.spec_model import (
    Operation,
    SpecMissing,
    client_endpoints,
    load_spec,
    operation,
    spec_template,
)

pytestmark = pytest.mark.integration

BAD_ENUM = "not-an-asana-value"

# (label, check) → the sandbox's known difference from the spec (strict xfail: fixing it fails the
# test until the entry is removed). None today.
XFAIL: dict[tuple[str, str], str] = {}


@dataclass
class Call:
    gid: str | None = None  # the label's {gid}
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None  # JSON `data`, or the form fields of a multipart upload
    files: dict[str, tuple[str, bytes, str]] | None = None


class World:
    """Seeds objects through the sandbox's API; every call makes fresh ones."""

    def __init__(self, http: httpx.Client, mini: Mini, team: str, hook_url: str) -> None:
        self.http, self.mini, self.ws, self.team, self.hook_url = http, mini, mini.ws, team, hook_url
        self._n = itertools.count()

    def _post(self, path: str, data: dict[str, Any]) -> str:
        response = self.http.post(path, json={"data": data})
        assert response.status_code in (200, 201), f"seeding {path}: {response.text}"
        return str(response.json()["data"]["gid"])

    def name(self, prefix: str) -> str:
        return f"{prefix} {next(self._n)}"

    def project(self) -> str:
        return self._post("/projects", {"workspace": self.ws, "team": self.team, "name": self.name("P")})

    def task(self, project: str | None = None, **extra: Any) -> str:
        data = {"name": self.name("T"), "projects": [project or self.mini.project], **extra}
        return self._post("/tasks", data)

    def subtask(self, parent: str) -> str:
        return self._post(f"/tasks/{parent}/subtasks", {"name": self.name("S")})

    def section(self, project: str) -> str:
        return self._post(f"/projects/{project}/sections", {"name": self.name("Sec")})

    def portfolio(self) -> str:
        return self._post("/portfolios", {"workspace": self.ws, "name": self.name("Pf"), "public": False})

    def custom_field(self, subtype: str = "text") -> str:
        data = {"workspace": self.ws, "name": self.name("CF"), "resource_subtype": subtype}
        return self._post("/custom_fields", data)

    def tag(self) -> str:
        return self._post(f"/workspaces/{self.ws}/tags", {"name": self.name("tag")})

    def comment(self, task: str) -> str:
        return self._post(f"/tasks/{task}/stories", {"text": "hello"})

    def status_update(self, parent: str) -> str:
        data = {"parent": parent, "title": "S", "text": "fine", "status_type": "on_track"}
        return self._post("/status_updates", data)

    def webhook(self, resource: str) -> str:
        return self._post("/webhooks", {"resource": resource, "target": self.hook_url})

    def attachment(self, parent: str) -> str:
        response = self.http.post("/attachments", data={"parent": parent}, files=FILE)
        assert response.status_code in (200, 201), response.text
        return str(response.json()["data"]["gid"])

    def link(self, path: str, data: dict[str, Any]) -> None:
        response = self.http.post(path, json={"data": data})
        assert response.status_code == 200, f"seeding {path}: {response.text}"

    def portfolio_with(self, *, item: bool = False, field: bool = False) -> str:
        gid = self.portfolio()
        if item:
            self.link(f"/portfolios/{gid}/addItem", {"item": self.project()})
        if field:
            self.link(f"/portfolios/{gid}/addCustomFieldSetting", {"custom_field": self.custom_field()})
        return gid

    def events_sync(self, resource: str) -> str:
        first = self.http.get("/events", params={"resource": resource})
        assert first.status_code == 412, first.text
        sync = str(first.json()["sync"])
        self.task(resource)  # something to report
        return sync


FILE = {"file": ("notes.txt", b"hello", "text/plain")}


def _put_project(w: World) -> Call:
    # The product's PUT sets a portfolio field's value on one of the portfolio's projects.
    portfolio, project, cf = w.portfolio(), w.project(), w.custom_field()
    w.link(f"/portfolios/{portfolio}/addCustomFieldSetting", {"custom_field": cf})
    w.link(f"/portfolios/{portfolio}/addItem", {"item": project})
    return Call(project, body={"custom_fields": {cf: "green"}})


def _linked(kind: str) -> Callable[[World], Call]:
    """remove{Dependencies,Dependents}: the link must exist first."""

    def recipe(w: World) -> Call:
        task, other = w.task(), w.task()
        w.link(f"/tasks/{task}/add{kind.capitalize()}", {kind: [other]})
        return Call(task, body={kind: [other]})

    return recipe


def _tagged(w: World) -> Call:
    task, tag = w.task(), w.tag()
    w.link(f"/tasks/{task}/addTag", {"tag": tag})
    return Call(task, body={"tag": tag})


def _in_portfolio(w: World) -> Call:
    portfolio, project = w.portfolio(), w.project()
    w.link(f"/portfolios/{portfolio}/addItem", {"item": project})
    return Call(portfolio, body={"item": project})


def _events(w: World) -> Call:
    project = w.project()
    return Call(query={"resource": project, "sync": w.events_sync(project)})


GOAL_METRIC = {
    "progress_source": "manual",
    "unit": "none",
    "initial_number_value": 0,
    "target_number_value": 40,
}


def _goal(w: World, metric: bool = False) -> str:
    gid = w._post("/goals", {"workspace": w.ws, "name": w.name("G")})
    if metric:
        w.link(f"/goals/{gid}/setMetric", GOAL_METRIC)
    return gid


def _supported_goal(w: World) -> Call:
    goal = _goal(w)
    w.link(f"/goals/{goal}/addSupportingRelationship", {"supporting_resource": w.project()})
    return Call(query={"supported_goal": goal})


# One request per client label, shaped like the product's own request (tools/asana/*.py).
RECIPES: dict[str, Callable[[World], Call]] = {
    "GET /users/{gid}": lambda w: Call("me"),
    "GET /workspaces": lambda w: Call(),
    "GET /workspaces/{gid}": lambda w: Call(w.ws, {"opt_fields": "is_organization"}),
    "GET /workspaces/{gid}/users": lambda w: Call(w.ws),
    "GET /workspaces/{gid}/teams": lambda w: Call(w.ws),
    "GET /teams/{gid}/users": lambda w: Call(w.team),
    "GET /workspaces/{gid}/tags": lambda w: Call(w.ws),
    "GET /workspaces/{gid}/custom_fields": lambda w: Call(w.ws),
    "GET /workspaces/{gid}/projects": lambda w: Call(w.ws, {"archived": "false"}),
    "GET /projects/{gid}": lambda w: Call(w.project()),
    "GET /projects/{gid}/sections": lambda w: Call(w.mini.project),
    "GET /projects/{gid}/custom_field_settings": lambda w: Call(w.mini.project),
    "GET /projects/{gid}/task_counts": lambda w: Call(w.mini.project),
    "GET /projects/{gid}/tasks": lambda w: Call(w.mini.project, {"completed_since": "now"}),
    "GET /tasks": lambda w: Call(query={"project": w.mini.project, "modified_since": "2000-01-01T00:00:00Z"}),
    "GET /sections/{gid}/tasks": lambda w: Call(w.mini.sections["Backlog"]),
    "GET /sections/{gid}": lambda w: Call(w.mini.sections["Backlog"]),
    "GET /tasks/{gid}": lambda w: Call(w.task()),
    "GET /tasks/{gid}/subtasks": lambda w: (lambda t: (w.subtask(t), Call(t))[1])(w.task()),
    "GET /tasks/{gid}/stories": lambda w: (lambda t: (w.comment(t), Call(t))[1])(w.task()),
    "GET /status_updates": lambda w: (lambda p: (w.status_update(p), Call(query={"parent": p}))[1])(
        w.project()
    ),
    "GET /portfolios": lambda w: (w.portfolio(), Call(query={"workspace": w.ws, "owner": "me"}))[1],
    "GET /portfolios/{gid}": lambda w: Call(w.portfolio()),
    "GET /portfolios/{gid}/items": lambda w: Call(w.portfolio_with(item=True)),
    "GET /portfolios/{gid}/custom_field_settings": lambda w: Call(w.portfolio_with(field=True)),
    "GET /attachments": lambda w: (lambda t: (w.attachment(t), Call(query={"parent": t}))[1])(w.task()),
    "POST /teams/{gid}/projects": lambda w: Call(w.team, body={"name": w.name("P"), "due_on": "2026-12-24"}),
    "POST /projects": lambda w: Call(
        body={"workspace": w.ws, "team": w.team, "name": w.name("P"), "notes": "n", "due_on": "2026-12-24"}
    ),
    "DELETE /projects/{gid}": lambda w: Call(w.project()),
    "PUT /projects/{gid}": _put_project,
    "POST /portfolios/{gid}/addCustomFieldSetting": lambda w: Call(
        w.portfolio(), body={"custom_field": w.custom_field(), "is_important": True}
    ),
    "POST /projects/{gid}/sections": lambda w: Call(w.project(), body={"name": "Ready"}),
    "PUT /sections/{gid}": lambda w: Call(w.section(w.project()), body={"name": "Renamed"}),
    "POST /projects/{gid}/addCustomFieldSetting": lambda w: Call(
        w.project(), body={"custom_field": w.custom_field(), "is_important": True}
    ),
    "POST /custom_fields": lambda w: Call(
        body={
            "workspace": w.ws,
            "name": w.name("CF"),
            "resource_subtype": "enum",
            "enum_options": [{"name": "High"}, {"name": "Low"}],
        }
    ),
    "DELETE /custom_fields/{gid}": lambda w: Call(w.custom_field()),
    "POST /tasks/{gid}/addProject": lambda w: Call(w.task(), body={"project": w.project()}),
    "POST /tasks/{gid}/removeProject": lambda w: Call(w.task(), body={"project": w.mini.project}),
    "POST /sections/{gid}/addTask": lambda w: Call(w.mini.sections["In Progress"], body={"task": w.task()}),
    "POST /tasks/{gid}/subtasks": lambda w: Call(
        w.task(), body={"name": "sub", "notes": "n", "resource_subtype": "default_task"}
    ),
    "POST /tasks": lambda w: Call(
        body={"name": "t", "projects": [w.mini.project], "notes": "n", "resource_subtype": "default_task"}
    ),
    "PUT /tasks/{gid}": lambda w: Call(
        w.task(resource_subtype="approval"), body={"name": "renamed", "approval_status": "approved"}
    ),
    "DELETE /tasks/{gid}": lambda w: Call(w.task()),
    "POST /tasks/{gid}/setParent": lambda w: Call(w.task(), body={"parent": w.task()}),
    "POST /tasks/{gid}/addDependencies": lambda w: Call(w.task(), body={"dependencies": [w.task()]}),
    "POST /tasks/{gid}/removeDependencies": _linked("dependencies"),
    "POST /tasks/{gid}/addDependents": lambda w: Call(w.task(), body={"dependents": [w.task()]}),
    "POST /tasks/{gid}/removeDependents": _linked("dependents"),
    "POST /workspaces/{gid}/tags": lambda w: Call(w.ws, body={"name": w.name("tag")}),
    "POST /tasks/{gid}/addTag": lambda w: Call(w.task(), body={"tag": w.tag()}),
    "POST /tasks/{gid}/removeTag": _tagged,
    "POST /tasks/{gid}/stories": lambda w: Call(w.task(), body={"text": "Looks good"}),
    "POST /status_updates": lambda w: Call(
        body={"parent": w.project(), "title": "Week 1", "text": "fine", "status_type": "on_track"}
    ),
    "POST /attachments": lambda w: Call(body={"parent": w.task()}, files=FILE),
    "DELETE /attachments/{gid}": lambda w: Call(w.attachment(w.task())),
    "POST /portfolios": lambda w: Call(body={"workspace": w.ws, "name": w.name("Pf"), "public": False}),
    "DELETE /portfolios/{gid}": lambda w: Call(w.portfolio()),
    "POST /portfolios/{gid}/addItem": lambda w: Call(w.portfolio(), body={"item": w.project()}),
    "POST /portfolios/{gid}/removeItem": _in_portfolio,
    "POST /webhooks": lambda w: Call(body={"resource": w.project(), "target": w.hook_url}),
    "GET /webhooks": lambda w: (lambda p: (w.webhook(p), Call(query={"workspace": w.ws, "resource": p}))[1])(
        w.project()
    ),
    "DELETE /webhooks/{gid}": lambda w: Call(w.webhook(w.project())),
    "GET /events": _events,
    "GET /goals": lambda w: (_goal(w), Call(query={"workspace": w.ws}))[1],
    "GET /goals/{gid}": lambda w: Call(_goal(w, metric=True)),
    "GET /goal_relationships": _supported_goal,
    "POST /goals/{gid}/addSupportingRelationship": lambda w: Call(
        _goal(w), body={"supporting_resource": w.project(), "contribution_weight": 1}
    ),
    "POST /goals/{gid}/setMetricCurrentValue": lambda w: Call(
        _goal(w, metric=True), body={"current_number_value": 12}
    ),
}


# ---- generated parameters ------------------------------------------------------------------------
def _labels() -> list[str]:
    return [f"{method} {path}" for method, path in client_endpoints()]


def _op(label: str) -> Operation:
    method, path = label.split(" ", 1)
    template = spec_template(method, path)
    assert template is not None, f"{label}: no such operation in asana_oas.yaml"
    return operation(method, template)


class DryWorld(World):
    """Runs a recipe without a server, to see which fields the product's request carries."""

    def __init__(self) -> None:
        http = httpx.Client()
        http.close()  # never used: every seeding method is replaced below
        super().__init__(http, build_mini(n_tasks=0), "0", "https://example.test/hook")

    def _post(self, path: str, data: dict[str, Any]) -> str:
        return "0"

    def link(self, path: str, data: dict[str, Any]) -> None:
        pass

    def attachment(self, parent: str) -> str:
        return "0"

    def events_sync(self, resource: str) -> str:
        return "0"


def _recipe_fields(label: str) -> tuple[set[str], set[str]]:
    """(query names, body names) of the product's request: enum checks cover only what it sends."""
    call = RECIPES[label](_dry_world())
    return set(call.query), set(call.body or {})


@functools.cache
def _dry_world() -> DryWorld:
    return DryWorld()


def checks_for(label: str) -> list[str]:
    op = _op(label)
    checks = ["response"]
    checks += [f"required:{p.name}" for p in op.query(required=True)]
    checks += [f"required:{name}" for name in op.body_required]
    sent_query, sent_body = _recipe_fields(label)
    checks += [f"enum:{p.name}" for p in op.query() if p.enum and p.name in sent_query]
    checks += [f"enum:{name}" for name in op.body_enums if name.split("[]")[0] in sent_body]
    if op.method == "GET":
        checks.append("opt_in")
    return checks


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "label" not in metafunc.fixturenames:
        return
    try:
        load_spec()
    except SpecMissing as exc:  # collected as one skipped test instead of a collection error
        names = "label,check" if "check" in metafunc.fixturenames else "label"
        values = ("-", "-") if "check" in metafunc.fixturenames else ("-",)
        metafunc.parametrize(names, [pytest.param(*values, marks=pytest.mark.skip(str(exc)))])
        return
    if "check" not in metafunc.fixturenames:
        metafunc.parametrize("label", _labels())
        return
    params = []
    for label in _labels():
        if spec_template(*label.split(" ", 1)) is None or label not in RECIPES:
            continue  # reported by test_label_in_spec / test_every_label_has_a_recipe
        for check in checks_for(label):
            reason = XFAIL.get((label, check))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(label, check, id=f"{label}|{check}", marks=marks))
    metafunc.parametrize("label,check", params)


# ---- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hook_url() -> Iterator[str]:
    """A webhook target that completes the X-Hook-Secret handshake and accepts deliveries."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            if secret := self.headers.get("X-Hook-Secret"):
                self.send_header("X-Hook-Secret", secret)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def world(hook_url: str) -> Iterator[World]:
    # One server for the module (a server per check would dominate the run); checks seed fresh objects.
    mini = build_mini()
    team = mini.store.add_team(mini.ws, "Platform", members=mini.users.values()).gid  # no team API
    with (
        SandboxServer(mini.store, mini.token, webhook_settings=FAST_HOOKS) as server,
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {server.token}"}, timeout=10
        ) as http,
    ):
        yield World(http, mini, team, hook_url)


# ---- the checks ----------------------------------------------------------------------------------
def _send(w: World, label: str, call: Call, multipart: bool) -> httpx.Response:
    method, path = label.split(" ", 1)
    url = path.replace("{gid}", call.gid or "")
    if multipart:
        return w.http.request(method, url, params=call.query, data=call.body, files=call.files)
    json = {"data": call.body} if call.body is not None else None
    return w.http.request(method, url, params=call.query, json=json)


def _without(call: Call, name: str) -> Call:
    if name in call.query:
        return Call(call.gid, {k: v for k, v in call.query.items() if k != name}, call.body, call.files)
    assert call.body is not None and name in call.body, f"the recipe does not send required {name!r}"
    return Call(call.gid, call.query, {k: v for k, v in call.body.items() if k != name}, call.files)


def _with_bad(call: Call, name: str) -> Call:
    if name in call.query:
        return Call(call.gid, {**call.query, name: BAD_ENUM}, call.body, call.files)
    assert call.body is not None
    top, _, sub = name.partition("[].")
    value = [{**item, sub: BAD_ENUM} for item in call.body[top]] if sub else BAD_ENUM
    return Call(call.gid, call.query, {**call.body, top: value}, call.files)


def _allowed_keys(op: Operation) -> set[str]:
    return set(op.item_properties - op.opt_in)


def test_label_in_spec(label: str) -> None:
    method, path = label.split(" ", 1)
    assert spec_template(method, path) is not None, f"{label}: not an operation of asana_oas.yaml"


def test_every_label_has_a_recipe() -> None:
    missing = [label for label in _labels() if label not in RECIPES]
    assert not missing, f"client calls without a conformance recipe in {__name__}: {missing}"


def test_spec_model_reads_the_spec() -> None:
    """The spec model's rules on a few known spots of asana_oas.yaml."""
    try:
        task = operation("GET", "/tasks/{task_gid}")
    except SpecMissing as exc:
        pytest.skip(str(exc))
    # "[Opt In]" (num_subtasks, html_notes, dependencies) and "only returned ... via opt_fields" (assigned_by)
    assert {"num_subtasks", "html_notes", "dependencies", "assigned_by"} <= task.opt_in
    assert "name" in task.item_properties and "name" not in task.opt_in
    listed = operation("GET", "/projects/{project_gid}/tasks")
    assert listed.is_list and "custom_fields" not in listed.item_properties  # TaskCompact
    status = operation("POST", "/status_updates")
    assert status.success_status == 201 and {"parent", "text", "status_type"} <= set(status.body_required)
    assert "on_track" in status.body_enums["status_type"]
    assert [p.name for p in operation("GET", "/attachments").query(required=True)] == ["parent"]
    schema = operation("GET", "/tasks/{task_gid}").response_schema
    assert schema is not None
    validator = jsonschema.Draft7Validator(schema)
    assert validator.is_valid({"data": {"gid": "1", "assignee": None}})  # allOf [$ref, nullable]
    assert not validator.is_valid({"data": {"gid": "1", "assignee": "nobody"}})


def test_conformance(world: World, label: str, check: str) -> None:
    op = _op(label)
    call = RECIPES[label](world)
    multipart = op.body_media == "multipart/form-data"
    kind, _, name = check.partition(":")
    if kind == "required":
        response = _send(world, label, _without(call, name), multipart)
        assert response.status_code == 400, f"{label} without {name}: {response.status_code} {response.text}"
    elif kind == "enum":
        response = _send(world, label, _with_bad(call, name), multipart)
        assert response.status_code == 400, (
            f"{label} {name}={BAD_ENUM}: {response.status_code} {response.text}"
        )
    elif kind == "response":
        response = _send(world, label, call, multipart)
        assert response.status_code == op.success_status, f"{label}: {response.status_code} {response.text}"
        assert op.response_schema is not None
        errors = sorted(
            jsonschema.Draft7Validator(op.response_schema).iter_errors(response.json()),
            key=lambda e: list(e.absolute_path),
        )
        assert not errors, f"{label}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5]
        )
    else:  # opt_in
        response = _send(world, label, call, multipart)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        rows = data if op.is_list else [data]
        assert rows, f"{label}: the recipe seeded nothing to list"
        allowed = _allowed_keys(op) if op.is_list else None
        for row in rows:
            returned = set(row)
            assert not returned & op.opt_in, f"{label}: opt-in fields {sorted(returned & op.opt_in)}"
            if allowed is not None:
                extra = returned - allowed
                assert not extra, f"{label}: fields outside the compact record {sorted(extra)}"
