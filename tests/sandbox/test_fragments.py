"""Task fragments kept between requests (sandbox/fragments.py, issue 23) are exactly what a fresh
render gives, and every change shows in the next read: writes through the API, edits made in
place by Python code (as evals/replay/world.py does), changes to the records a task refers to
(its assignee, section, custom field, enum option), records appearing and disappearing."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sandbox import fragments
from sandbox.context import encode_json
from sandbox.fragments import cache_of, render_tasks_json
from sandbox.optfields import parse_opt_fields
from sandbox.records import Task
from sandbox.serialize import Renderer
from sandbox.store import Store
from tests.sandbox.conftest import Mini, build_mini
from tests.sandbox.test_serialize_plan import CASES, DIGESTS, _chunks, _world
from tools.asana import TaskView

FIELDS = (
    TaskView.PLANNING.opt_fields
    + ",assignee.email,followers.name,custom_fields.enum_options.name,custom_fields.created_by.name"
)


def _fresh(store: Store, tasks: list[Task], raw: str) -> bytes:
    with store.lock:
        return encode_json(Renderer(store).render_many(tasks, parse_opt_fields(raw)))


def _kept(store: Store, tasks: list[Task], raw: str) -> bytes:
    tree = parse_opt_fields(raw)
    assert tree is not None
    with store.lock:
        body = render_tasks_json(Renderer(store), tasks, tree)
    assert body is not None
    return body


@pytest.mark.parametrize("case", sorted(c for c in CASES if CASES[c] is not None))
def test_kept_pages_are_byte_for_byte_the_rendered_ones(case: str) -> None:
    """Cold (every task rendered), then warm (every fragment and page reused): the same bytes as
    the list renderer, and the digests pinned before compiled plans and fragments."""
    generated, records = _world()
    store = generated.store
    raw = CASES[case]
    assert raw is not None
    tasks = [r for r in records if isinstance(r, Task)]
    assert len(tasks) == len(records)
    for _round in ("cold", "warm"):
        digest = hashlib.sha256()
        for chunk in _chunks(records):
            page = [r for r in chunk if isinstance(r, Task)]
            body = _kept(store, page, raw)
            assert body == _fresh(store, page, raw)
            digest.update(b'{"data":' + body + b"}")
        assert digest.hexdigest() == DIGESTS[case]


def test_a_second_read_reuses_what_the_first_kept() -> None:
    mini = build_mini(n_tasks=8)
    store = mini.store
    tasks = [store.tasks[g] for g in store.project_tasks(mini.project)]
    cache = cache_of(store)
    _kept(store, tasks, FIELDS)
    assert cache.misses == len(tasks) and cache.hits == 0
    _kept(store, tasks, FIELDS)
    assert cache.misses == len(tasks) and cache.hits == len(tasks)
    _kept(store, tasks[2:5], FIELDS)  # another page of the same tasks: their fragments
    assert cache.misses == len(tasks)


def test_what_is_kept_stays_under_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replaced entries give their bytes back; past the bound the store's cache starts over."""
    monkeypatch.setattr(fragments, "MAX_BYTES", 20_000)
    mini = build_mini(n_tasks=8)
    store = mini.store
    tasks = _referencing(mini)
    cache = cache_of(store)
    for step in range(40):
        tasks[step % len(tasks)].name = f"edit {step}"
        page = tasks[: 1 + step % len(tasks)]
        assert _kept(store, page, FIELDS) == _fresh(store, page, FIELDS)
        kept = sum(len(f.encoded) for v in cache.views.values() for f in v.fragments.values())
        kept += sum(len(p.body) for v in cache.views.values() for p in v.pages.values())
        assert cache.size == kept <= 20_000


def test_a_render_reading_more_than_records_is_not_kept() -> None:
    """`memberships.project.num_tasks` counts the project's tasks (a store method): such a task
    renders every time, and its answer still follows edits."""
    mini = build_mini(n_tasks=3)
    store = mini.store
    tasks = [store.tasks[g] for g in store.project_tasks(mini.project)]
    raw = "name,memberships.project.num_tasks"
    assert _kept(store, tasks, raw) == _fresh(store, tasks, raw)
    assert all(not view.fragments and not view.pages for view in cache_of(store).views.values())
    store.add_task(mini.ws, "one more", memberships=[(mini.project, mini.sections["Backlog"])])
    assert _kept(store, tasks, raw) == _fresh(store, tasks, raw)
    assert b'"num_tasks":4' in _kept(store, tasks, raw)


# ---- every kind of change shows in the next read ----------------------------------------------
Change = Callable[[Mini, list[Task]], None]


def _rename_in_place(mini: Mini, tasks: list[Task]) -> None:
    tasks[0].name = "renamed in place"


def _points_in_place(mini: Mini, tasks: list[Task]) -> None:
    tasks[1].custom_fields[mini.fields["points"]] = 8.0


def _points_int_then_float(mini: Mini, tasks: list[Task]) -> None:
    # 8 and 8.0 are equal in Python but not in JSON ("8" against "8.0").
    value = tasks[2].custom_fields.get(mini.fields["points"])
    tasks[2].custom_fields[mini.fields["points"]] = 8 if isinstance(value, float) else 8.0


def _reassign(mini: Mini, tasks: list[Task]) -> None:
    tasks[0].assignee = mini.users["ben"] if tasks[0].assignee == mini.users["ana"] else mini.users["ana"]


def _rename_assignee(mini: Mini, tasks: list[Task]) -> None:
    mini.store.users[mini.users["ana"]].name = f"Ana {random.randint(0, 10**6)}"


def _change_assignee_email(mini: Mini, tasks: list[Task]) -> None:
    mini.store.users[mini.users["ana"]].email = f"ana{random.randint(0, 10**6)}@acme.test"


def _rename_section(mini: Mini, tasks: list[Task]) -> None:
    mini.store.sections[mini.sections["Backlog"]].name = f"Backlog {random.randint(0, 10**6)}"


def _move_section(mini: Mini, tasks: list[Task]) -> None:
    now = mini.store.section_of(tasks[3], mini.project)
    target = mini.sections["Done"] if now != mini.sections["Done"] else mini.sections["In Progress"]
    mini.store.move_task_to_section(tasks[3].gid, target)


def _rename_enum_option(mini: Mini, tasks: list[Task]) -> None:
    mini.store.enum_options[mini.options["High"]].name = f"High {random.randint(0, 10**6)}"


def _rename_field(mini: Mini, tasks: list[Task]) -> None:
    mini.store.custom_fields[mini.fields["points"]].name = f"Points {random.randint(0, 10**6)}"


def _drop_a_field_setting(mini: Mini, tasks: list[Task]) -> None:
    settings = mini.store.projects[mini.project].custom_field_settings
    if settings:
        settings.pop()


def _tag_in_place(mini: Mini, tasks: list[Task]) -> None:
    tasks[1].tags.append(mini.tag)
    mini.store.tags[mini.tag].name = f"tag {random.randint(0, 10**6)}"


def _follow_then_remove_user(mini: Mini, tasks: list[Task]) -> None:
    user = mini.store.add_user(f"Temp {random.randint(0, 10**6)}", "temp@acme.test", workspaces=[mini.ws])
    tasks[2].followers.append(user.gid)
    mini.store.remove(user.gid)  # the follower's gid stays on the task, its record is gone


def _link_then_remove_task(mini: Mini, tasks: list[Task]) -> None:
    other = mini.store.add_task(mini.ws, "linked")
    tasks[3].dependencies.append(other.gid)
    mini.store.remove(other.gid)


def _referencing(mini: Mini) -> list[Task]:
    """The project's tasks, one assigned to Ana, one tagged, one with an enum value."""
    tasks = [mini.store.tasks[g] for g in mini.store.project_tasks(mini.project)]
    tasks[0].assignee = mini.users["ana"]
    tasks[1].tags.append(mini.tag)
    tasks[4].custom_fields[mini.fields["priority"]] = mini.options["High"]
    return tasks


CHANGES: list[Change] = [
    _rename_in_place,
    _points_in_place,
    _points_int_then_float,
    _reassign,
    _rename_assignee,
    _change_assignee_email,
    _rename_section,
    _move_section,
    _rename_enum_option,
    _rename_field,
    _drop_a_field_setting,
    _tag_in_place,
    _follow_then_remove_user,
    _link_then_remove_task,
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.__name__.strip("_"))
def test_an_edit_in_place_shows_in_the_next_read(change: Change) -> None:
    mini = build_mini(n_tasks=6)
    store = mini.store
    tasks = _referencing(mini)
    before = _kept(store, tasks, FIELDS)
    assert _kept(store, tasks, FIELDS) == before  # warm: kept
    change(mini, tasks)
    after = _kept(store, tasks, FIELDS)
    assert after == _fresh(store, tasks, FIELDS)
    assert after != before


def test_a_gid_taken_by_another_kind_of_record_shows_in_the_next_read() -> None:
    """A bare reference (`dependencies`) only asks which record a gid is: checked again whenever
    the store's set of gids changed (`index_version`), not on every read."""
    mini = build_mini(n_tasks=2)
    store = mini.store
    tasks = [store.tasks[g] for g in store.project_tasks(mini.project)]
    tasks[0].dependencies.append("4242")  # no such record yet: written as a task reference
    before = _kept(store, tasks, "name,dependencies")
    assert b'{"gid":"4242","resource_type":"task"}' in before
    store.add_tag(mini.ws, "now a tag", gid="4242")
    after = _kept(store, tasks, "name,dependencies")
    assert after == _fresh(store, tasks, "name,dependencies")
    assert b'{"gid":"4242","resource_type":"tag"}' in after
    store.remove("4242")
    assert _kept(store, tasks, "name,dependencies") == before


def test_random_edits_interleaved_with_reads_always_read_fresh() -> None:
    rng = random.Random(23)
    random.seed(23)
    mini = build_mini(n_tasks=6)
    store = mini.store
    tasks = _referencing(mini)
    views = [FIELDS, TaskView.DETAIL.opt_fields, "name,custom_fields.display_value,memberships.section.name"]
    for _step in range(150):
        rng.choice(CHANGES)(mini, tasks)
        page = rng.sample(tasks, rng.randint(1, len(tasks)))
        raw = rng.choice(views)
        assert _kept(store, page, raw) == _fresh(store, page, raw)


# ---- through the API ---------------------------------------------------------------------------
def _read(http: httpx.Client, mini: Mini) -> bytes:
    response = http.get(f"/projects/{mini.project}/tasks", params={"opt_fields": FIELDS})
    response.raise_for_status()
    return response.content


def _expected(mini: Mini) -> bytes:
    store = mini.store
    tasks = [store.tasks[g] for g in store.project_tasks(mini.project)]
    return b'{"data":' + _fresh(store, tasks, FIELDS) + b"}"


def test_writes_through_the_api_show_in_the_next_opt_fields_read(mini: Mini, http: httpx.Client) -> None:
    first = _read(http, mini)
    assert first == _expected(mini) and _read(http, mini) == first
    task = mini.store.project_tasks(mini.project)[0]
    low, points, score = mini.options["Low"], mini.fields["points"], mini.fields["score"]
    writes: list[tuple[str, str, dict[str, Any]]] = [
        ("PUT", f"/tasks/{task}", {"data": {"name": "Renamed through the API"}}),
        ("PUT", f"/tasks/{task}", {"data": {"custom_fields": {points: 13}}}),
        ("PUT", f"/tasks/{task}", {"data": {"assignee": mini.users["ben"]}}),
        ("PUT", f"/sections/{mini.sections['Backlog']}", {"data": {"name": "Icebox"}}),
        (
            "PUT",
            f"/tasks/{task}",
            {"data": {"custom_fields": {mini.fields["priority"]: low}}},
        ),
        ("PUT", f"/enum_options/{mini.options['Low']}", {"data": {"name": "Lowest"}}),
        ("POST", f"/tasks/{task}/addTag", {"data": {"tag": mini.tag}}),
        ("PUT", f"/custom_fields/{mini.fields['points']}", {"data": {"name": "Points"}}),
        (
            "POST",
            f"/projects/{mini.project}/removeCustomFieldSetting",
            {"data": {"custom_field": score}},
        ),
    ]
    seen = [first]
    for method, path, body in writes:
        http.request(method, path, json=body).raise_for_status()
        now = _read(http, mini)
        assert now == _expected(mini), (method, path)
        assert now != seen[-1], (method, path)
        seen.append(now)
    for text in (
        b"Renamed through the API",
        b'"number_value":13',
        b"Ben Ode",
        b"Icebox",
        b"Lowest",
        b"Points",
    ):
        assert text in seen[-1]
    assert b"AI Priority Score" in first and b"AI Priority Score" not in seen[-1]


def test_a_deleted_task_leaves_the_next_read(mini: Mini, http: httpx.Client) -> None:
    gids = mini.store.project_tasks(mini.project)
    http.post(
        f"/tasks/{gids[1]}/addDependencies", json={"data": {"dependencies": [gids[2]]}}
    ).raise_for_status()
    assert gids[2].encode() in _read(http, mini)
    http.delete(f"/tasks/{gids[2]}").raise_for_status()
    after = _read(http, mini)
    assert after == _expected(mini) and gids[2].encode() not in after
