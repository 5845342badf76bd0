"""The process's copy of a project's tasks: whole once, then only what changed (issue 23)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tools.asana.models import Task
from tools.asana.task_index import OVERLAP, ProjectTaskIndex

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Reader:
    base_url = "https://asana.example/api/1.0"

    def __init__(self, tasks: list[Task]) -> None:
        self.tasks = {t.gid: t for t in tasks}
        self.calls: list[tuple[str, Any]] = []

    def project_tasks(self, project_gid: str) -> list[Task]:
        self.calls.append(("whole", project_gid))
        return list(self.tasks.values())

    def project_tasks_modified_since(self, project_gid: str, since: datetime) -> list[Task]:
        self.calls.append(("since", since))
        return [t for t in self.tasks.values() if t.modified_at and t.modified_at > since]


def _task(gid: str, name: str, at: datetime) -> Task:
    return Task(gid=gid, name=name, modified_at=at)


def test_reads_whole_once_then_merges_changes_by_gid() -> None:
    reader = Reader([_task("1", "a", T0), _task("2", "b", T0 + timedelta(minutes=1))])
    index = ProjectTaskIndex(clock=lambda: 0.0)
    assert {t.gid for t in index.tasks(reader, "p")} == {"1", "2"}
    reader.tasks["1"] = _task("1", "a renamed", T0 + timedelta(minutes=5))
    reader.tasks["3"] = _task("3", "c", T0 + timedelta(minutes=6))
    names = {t.gid: t.name for t in index.tasks(reader, "p")}
    assert names == {"1": "a renamed", "2": "b", "3": "c"}
    # The second read asked only for changes after the newest stamp seen, one second back.
    assert reader.calls[1] == ("since", T0 + timedelta(minutes=1) - OVERLAP)
    assert index.whole_reads == 1 and index.delta_reads == 1


def test_a_removed_task_stays_until_the_next_whole_read() -> None:
    now = [0.0]
    reader = Reader([_task("1", "a", T0), _task("2", "b", T0)])
    index = ProjectTaskIndex(refresh_s=900, clock=lambda: now[0])
    index.tasks(reader, "p")
    del reader.tasks["2"]
    assert {t.gid for t in index.tasks(reader, "p")} == {"1", "2"}
    now[0] = 901.0
    assert {t.gid for t in index.tasks(reader, "p")} == {"1"}
    assert index.whole_reads == 2


def test_a_reader_without_change_reads_and_forget() -> None:
    class Plain:
        def project_tasks(self, project_gid: str) -> list[Task]:
            return [_task("9", "z", T0)]

    index = ProjectTaskIndex()
    assert [t.gid for t in index.tasks(Plain(), "p")] == ["9"]
    assert index.whole_reads == 0  # nothing kept for a reader that cannot ask for changes
    reader = Reader([_task("1", "a", T0)])
    index.tasks(reader, "p")
    index.forget(reader.base_url)
    index.tasks(reader, "p")
    assert index.whole_reads == 2
