from __future__ import annotations

import datetime as dt

import pytest

from tests.contract.conftest import Scratch
from tools.asana import AsanaClient, BadRequest
from tools.asana.field_map import FieldMap
from tools.asana.models import CustomField, Project

pytestmark = pytest.mark.contract


@pytest.fixture
def fielded(
    client: AsanaClient, scratch: Scratch, contract_fields: dict[str, CustomField]
) -> tuple[Project, FieldMap]:
    project = scratch.project("fields")
    for key in ("number", "text", "enum", "multi_enum", "date", "people"):
        client.add_custom_field_to_project(project.gid, contract_fields[key].gid)
    return project, client.field_map(project.gid)


def test_each_type_round_trips_with_display_value(
    client: AsanaClient,
    scratch: Scratch,
    fielded: tuple[Project, FieldMap],
    contract_fields: dict[str, CustomField],
) -> None:
    project, fmap = fielded
    me = client.me()
    n = {k: cf.name or "" for k, cf in contract_fields.items()}
    values = {
        n["number"]: 4.5,
        n["text"]: "Sprint 24",
        n["enum"]: "Beta",
        n["multi_enum"]: ["red", "blue"],
        n["date"]: dt.date(2026, 12, 4),
        n["people"]: [me.gid],
    }
    task = scratch.task(project, custom_fields=fmap.to_custom_fields(values))
    read = next(t for t in client.project_tasks(project.gid) if t.gid == task.gid)
    assert read.field(n["number"]) == 4.5 and read.display(n["number"]) == "4.5"
    assert read.field(n["text"]) == "Sprint 24" and read.display(n["text"]) == "Sprint 24"
    assert read.field(n["enum"]) == "Beta" and read.display(n["enum"]) == "Beta"
    assert read.field(n["multi_enum"]) == ["red", "blue"] and read.display(n["multi_enum"]) == "red, blue"
    assert read.field(n["date"]) == dt.date(2026, 12, 4)
    assert (read.display(n["date"]) or "").startswith("2026-12-04")
    assert read.field(n["people"]) == [me.name] and read.display(n["people"]) == me.name

    # Update through the client and clear a value.
    changed = client.update_task(
        task.gid, {"custom_fields": fmap.to_custom_fields({n["enum"]: "Gamma", n["text"]: None})}
    )
    assert changed.field(n["enum"]) == "Gamma"
    assert changed.field(n["text"]) is None and changed.display(n["text"]) is None


def test_wrong_type_and_foreign_option_are_bad_requests(
    client: AsanaClient,
    scratch: Scratch,
    fielded: tuple[Project, FieldMap],
    contract_fields: dict[str, CustomField],
) -> None:
    project, _ = fielded
    task = scratch.task(project)
    number, enum, other = contract_fields["number"], contract_fields["enum"], contract_fields["other_enum"]
    with pytest.raises(BadRequest):
        client.update_task(task.gid, {"custom_fields": {number.gid: "not a number"}})
    foreign = next(o.gid for o in other.enum_options if o.name == "Alpha")
    with pytest.raises(BadRequest):
        client.update_task(task.gid, {"custom_fields": {enum.gid: foreign}})
    with pytest.raises(BadRequest):
        client.update_task(task.gid, {"custom_fields": {contract_fields["date"].gid: "2026-12-04"}})
    assert client.task(task.gid).field(enum.name or "") is None  # nothing was half-written
