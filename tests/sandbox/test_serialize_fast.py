"""The sandbox's fast read path (issue 23) answers byte for byte what the plain one did.

`render_many` shares lookups across a list, `encode_json` takes orjson where it gives the same
bytes, and task lists check privacy and filters lazily, only as far as the page reads. Each is
compared here with a naive reference: the renderer as it was (no plans, no list-wide sharing),
`json.dumps`, and an eager filter over the whole project.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.access import can_see, sees_project
from sandbox.context import encode_json
from sandbox.generator import GeneratedWorkspace, generate_workspace
from sandbox.generator_scale import generate_large_project
from sandbox.optfields import FieldTree, parse_opt_fields
from sandbox.records import Record, Story, Task
from sandbox.serialize import _ABSENT, SPECS, Embedded, Ref, Renderer
from sandbox.server import SandboxServer
from tools.asana import TaskView


class NaiveRenderer(Renderer):
    """The renderer before issue 23: every field resolved and expanded afresh for each record."""

    def _object(
        self, kind: str, gid: str | None, obj: Any, tree: FieldTree | None, full: bool
    ) -> dict[str, Any]:
        spec = SPECS[kind]
        out: dict[str, Any] = {} if gid is None else {"gid": gid}
        names = tree.keys() if tree is not None else (spec.full if full else spec.compact)
        for name in names:
            resolver = spec.fields.get(name)
            if resolver is None:
                if isinstance(obj, Story) and name in obj.fields:
                    value: Any = self._story_field(obj.fields[name])
                else:
                    continue
            else:
                value = resolver(self, obj)
                if value is _ABSENT:
                    continue
            sub = tree.get(name) if tree is not None else None
            out[name] = self._value(value, sub or None, explicit=tree is not None)
        if tree is None and isinstance(obj, Story) and full:
            for name, raw in obj.fields.items():
                out[name] = self._value(self._story_field(raw), None, explicit=False)
        return out

    def _ref(self, ref: Ref, sub: FieldTree | None, explicit: bool) -> dict[str, Any]:
        record = self.store.index.get(ref.gid)
        if record is None:
            return {"gid": ref.gid, "resource_type": ref.resource_type}
        if sub:
            return self._object(record.resource_type, record.gid, record, sub, False)
        if explicit:
            return {"gid": ref.gid, "resource_type": record.resource_type}
        return self._object(record.resource_type, record.gid, record, None, False)

    def _embedded(self, value: Embedded, sub: FieldTree | None) -> dict[str, Any]:
        gid = value.value[0].gid if value.kind == "custom_field_value" else None
        if value.kind == "custom_field_full":
            gid = value.value.gid
        return self._object(value.kind, gid, value.value, sub, False)


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


@pytest.fixture(scope="module")
def world() -> tuple[GeneratedWorkspace, str]:
    generated = generate_workspace(seed=11)
    large = generate_large_project(generated, 240, 300, seed=11)
    return generated, large.project_gid


TREES = {
    "compact": None,
    "planning": TaskView.PLANNING.opt_fields,
    "detail": TaskView.DETAIL.opt_fields,
    "cf_bare": "custom_fields,memberships,assignee,tags",
    "cf_default": "name,custom_fields.name,custom_fields",
}


@pytest.mark.parametrize("tree_name", sorted(TREES))
def test_render_many_equals_naive_renderer(world: tuple[GeneratedWorkspace, str], tree_name: str) -> None:
    generated, project = world
    store = generated.store
    tree = parse_opt_fields(TREES[tree_name])
    tasks: list[Record] = [store.tasks[g] for g in store.project_tasks(project)]
    tasks += list(store.tasks.values())[:150]  # other projects, subtasks, tasks in no project
    with store.lock:
        fast = Renderer(store, "http://x/").render_many(tasks, tree)
    naive = [NaiveRenderer(store, "http://x/").render(t, tree, full=False) for t in tasks]
    assert fast == naive
    assert encode_json({"data": fast}) == _dumps({"data": naive})


def test_full_renders_of_every_kind_equal_naive(world: tuple[GeneratedWorkspace, str]) -> None:
    store = world[0].store
    records = [r for r in store.index.values() if r.resource_type in SPECS][:3000]
    fast, naive = Renderer(store, "http://x/"), NaiveRenderer(store, "http://x/")
    for record in records:
        assert fast.render(record, None, full=True) == naive.render(record, None, full=True), record.gid
    with store.lock:
        assert fast.render_many(records, None) == [naive.render(r, None, full=False) for r in records]


@pytest.mark.parametrize(
    "payload",
    [
        {"data": [{"gid": "1", "name": "plain ascii", "n": 3, "x": 2.5, "ok": True, "none": None}]},
        {"name": "Olá — naïve ☃ \u2028"},
        {"name": "del \x7f and controls \x00\x1f\n\t"},
        {"small": 1e-05, "tiny": 5e-324, "big": 1e16, "neg_zero": -0.0, "third": 1 / 3},
        {"e08": 6.544799041945611e-08, "max": 1.7976931348623157e308, "text": "re-estimate 3e-2"},
        {"huge_int": 2**70, "min_int": -(2**63)},
        {1: "int key", None: "none key"},
        [[], {}, "", 0, -1, 1.0],
    ],
)
def test_encode_json_is_json_dumps_byte_for_byte(payload: Any) -> None:
    assert encode_json(payload) == _dumps(payload)


def test_encode_json_matches_json_dumps_for_floats_of_every_magnitude() -> None:
    rng = random.Random(23)
    for _ in range(20_000):
        x = rng.uniform(-1, 1) * 10 ** rng.uniform(-320, 308)
        payload = [x, round(x, rng.randint(0, 6)), {"v": x}]
        assert encode_json(payload) == _dumps(payload), x


def _private_world(generated: GeneratedWorkspace, project: str) -> str:
    """Make the large project private to strangers: its tasks, all tagged with the returned tag,
    show only through other projects (multi-homed into a public one) or as followed."""
    store = generated.store
    tag = store.add_tag(generated.workspace_gid, "issue 23").gid
    bot = store.user_for_token(generated.token)
    assert bot is not None
    large = store.projects[project]
    large.privacy_setting, large.members, large.owner = "private", [], None
    public = next(
        p
        for p in store.projects.values()
        if p.gid != project and sees_project(store, bot.gid, p) and p.sections
    )
    for i, gid in enumerate(store.project_tasks(project)):
        task = store.tasks[gid]
        task.tags.append(tag)
        if i % 5 == 0:
            store.add_task_to_project(gid, public.gid)
        elif i % 7 == 0:
            task.followers.append(bot.gid)
        if i % 3 == 0:
            task.completed, task.completed_at = True, "2026-11-10T10:00:00.000Z"
    return tag


@pytest.fixture
def private_server() -> Iterator[tuple[SandboxServer, GeneratedWorkspace, str]]:
    generated = generate_workspace(seed=5)
    project = generate_large_project(generated, 180, 100, seed=5).project_gid
    tag = _private_world(generated, project)
    with SandboxServer(generated.store, token=generated.token) as server:
        yield server, generated, tag


def _walk(client: httpx.Client, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    query = dict(params)
    while True:
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        out += body["data"]
        if body.get("next_page") is None:
            return out
        query = {**params, "offset": body["next_page"]["offset"]}


@pytest.mark.parametrize(
    "filters", [{}, {"completed_since": "now"}, {"completed_since": "2026-11-11T00:00:00Z"}]
)
def test_lazy_pages_equal_an_eager_privacy_filtered_list(
    private_server: tuple[SandboxServer, GeneratedWorkspace, str], filters: dict[str, str]
) -> None:
    server, generated, tag = private_server
    store = generated.store
    bot = store.user_for_token(generated.token)
    assert bot is not None
    tree = parse_opt_fields(TaskView.PLANNING.opt_fields)
    tagged = [t for t in store.tasks.values() if tag in t.tags]
    visible: list[Task] = [t for t in tagged if can_see(store, bot.gid, t)]
    if filters.get("completed_since") == "now":
        visible = [t for t in visible if not t.completed]
    elif filters:
        visible = [t for t in visible if not t.completed or (t.completed_at or "") >= "2026-11-11"]
    assert 0 < len(visible) < len(tagged)  # privacy really filters
    expected = [NaiveRenderer(store, server.root_url).render(t, tree, full=False) for t in visible]
    headers = {"Authorization": f"Bearer {server.token}"}
    path = f"/tags/{tag}/tasks"
    fields = {"opt_fields": TaskView.PLANNING.opt_fields, **filters}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=10) as client:
        for limit in ("7", "100", str(len(visible))):  # the last: a page ends exactly at the end
            assert _walk(client, path, {**fields, "limit": limit}) == expected
        unpaged = client.get(path, params=fields)
        assert unpaged.content == _dumps({"data": expected})
        exact = client.get(path, params={**fields, "limit": str(len(visible))}).json()
        assert exact["next_page"] is None and len(exact["data"]) == len(visible)
