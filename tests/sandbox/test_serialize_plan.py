"""Compiled render plans (sandbox.serialize_plan, issue 23) give exactly the former output.

`Renderer.render_many` renders lists through plans compiled per (record type, field tree); the
single-record path (`Renderer.render`) still walks fields one by one. Whole pages are compared
with that path for a range of opt_fields, and their encoded bytes are pinned by digests taken
with the renderer as it was before the plans (sandbox/serialize.py at the start of issue 23's
sandbox work), so a change in any byte of a page shows here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from sandbox.context import encode_json
from sandbox.generator import GeneratedWorkspace, generate_workspace
from sandbox.generator_scale import generate_large_project
from sandbox.optfields import parse_opt_fields
from sandbox.records import Record
from sandbox.serialize import Renderer
from tools.asana import TaskView

CASES: dict[str, str | None] = {
    "compact": None,
    "planning": TaskView.PLANNING.opt_fields,
    "detail": TaskView.DETAIL.opt_fields,
    "refs_bare": "assignee,parent,projects,tags,followers,dependencies,dependents,workspace,memberships",
    "refs_named": "assignee.(name|email),parent.(name|completed),projects.name,followers.name,workspace.name",
    "cf_bare": "custom_fields",
    "cf_values": "custom_fields.(enum_value|people_value|multi_enum_values).name,custom_fields.number_value,"
    "custom_fields.display_value,custom_fields.enum_options.(name|color),custom_fields.created_by.name",
    "memberships": "memberships.section,memberships.project.(name|archived),"
    "memberships.section.(name|project)",
    "misc": "html_notes,external,num_subtasks,approval_status,assignee_status,assignee_section,likes,hearts,"
    "num_likes,liked,is_rendered_as_separator,actual_time_minutes,due_at,start_at,created_by,completed_by,"
    "permalink_url,resource_type,this.name,gid,not_a_field",
}

# sha256 of the pages' encoded bytes, taken with the renderer before compiled plans.
DIGESTS = {
    "compact": "0bfb8f1811e2aa13147836872453fe750694de5297a5d422a5781a42ffd1862b",
    "planning": "6dd6822d4413087207dabd655f3d1dfd9b0591ce77814ed868fa6ec0ff0d9589",
    "detail": "f473e9a16418895cf6b4a8e2ebffb8a923bd7d1f65341e6b4b9abee471d8ab01",
    "refs_bare": "49c6e43cdacfa7db63df9412451d583070f6bc0dad16799467bdf9b31f5eadbc",
    "refs_named": "95a1680e28e4c72cc580c2096713c9de855b8d6dd4501ff57825eca32cdcb96f",
    "cf_bare": "7c2849661380e4a681c5e05d1cce7078fc38d03aed248b580be4ccad6663f626",
    "cf_values": "d752b27ae79d22f024dd21d3386a3e5b7a8c9987b9dca8128b4b2f26d049b576",
    "memberships": "cfa01cb92f4a621cb2b049b4027150175118c160a2c5d27e92ea39c8ee8fc64f",
    "misc": "2be189d0a904b54fe0466aa836eee03b1bc91ddf7666a0c794f01a1dbf893deb",
}


@cache
def _world() -> tuple[GeneratedWorkspace, list[Record]]:
    generated = generate_workspace(seed=7)
    large = generate_large_project(generated, 600, 900, seed=7)
    store = generated.store
    records: list[Record] = [store.tasks[g] for g in store.project_tasks(large.project_gid)]
    records += sorted(store.tasks.values(), key=lambda t: t.gid)[:400]  # subtasks, other projects
    return generated, records


def _chunks(records: list[Record]) -> Iterator[list[Record]]:
    for start in range(0, len(records), 100):
        yield records[start : start + 100]


def pages(case: str) -> Iterator[bytes]:
    """Each page of 100 records as the list routes encode it."""
    generated, records = _world()
    store = generated.store
    tree = parse_opt_fields(CASES[case])
    for chunk in _chunks(records):
        with store.lock:
            data = Renderer(store, "http://sandbox.test/").render_many(chunk, tree)
        yield encode_json({"data": data})


@pytest.mark.parametrize("case", sorted(CASES))
def test_pages_equal_the_record_by_record_renderer(case: str) -> None:
    generated, records = _world()
    store = generated.store
    tree = parse_opt_fields(CASES[case])
    for chunk, page in zip(_chunks(records), pages(case), strict=True):
        one_by_one = [Renderer(store, "http://sandbox.test/").render(r, tree, full=False) for r in chunk]
        assert page == json.dumps({"data": one_by_one}, separators=(",", ":")).encode()


@pytest.mark.parametrize("case", sorted(CASES))
def test_pages_are_byte_for_byte_the_former_ones(case: str) -> None:
    assert hashlib.sha256(b"".join(pages(case))).hexdigest() == DIGESTS[case]


def test_a_plan_is_compiled_once_per_tree_and_follows_edits() -> None:
    """Plans are reused across requests; the store's records are read afresh on every render."""
    generated, records = _world()
    store = generated.store
    tree = parse_opt_fields(TaskView.PLANNING.opt_fields)
    task: Any = records[0]
    with store.lock:
        before = Renderer(store).render_many([task], tree)[0]
    old = task.name
    try:
        task.name = "renamed for the test"
        with store.lock:
            after = Renderer(store).render_many([task], tree)[0]
        assert after["name"] == "renamed for the test" and before["name"] == old
    finally:
        task.name = old
