"""Specialists read through a view that refuses writes at run time (AsanaReads vs AsanaWrites)."""

from __future__ import annotations

import pytest

from graphs.asana_port import WRITE_METHODS, ReadOnlyAsana, WriteRefused
from tests.graphs.fakes import FakeAsana


def test_reads_pass_and_every_write_is_refused() -> None:
    fake = FakeAsana()
    fake.add_project("2000", "Team backlog")
    fake.add_task("4001", "Login page")
    view = ReadOnlyAsana(fake)
    assert view.task("4001").name == "Login page"
    assert {"create_task", "update_task", "add_comment", "remove_task_from_project"} <= WRITE_METHODS
    for name in [*WRITE_METHODS, "delete_task", "set_parent", "create_webhook"]:
        with pytest.raises(WriteRefused, match="only the executor writes"):
            getattr(view, name)
    assert fake.writes == []


def test_the_runtime_hands_specialists_the_view_and_the_executor_the_client() -> None:
    from tests.graphs.test_workspace_policy import _runtime

    rt = _runtime(allowed_workspaces=["1"])
    rt.asana = FakeAsana()  # type: ignore[assignment]
    ctx = rt.context()
    assert isinstance(ctx.asana, ReadOnlyAsana)
    assert ctx.writes is rt.asana
    with pytest.raises(WriteRefused):
        ctx.asana.update_task  # type: ignore[attr-defined]  # noqa: B018
