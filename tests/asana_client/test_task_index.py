"""The process's copy of a project's tasks: whole once, then only what changed (issue 23)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tools.asana.errors import NotFound
from tools.asana.fields import TaskView
from tools.asana.models import Task
from tools.asana.task_index import MAX_TASK_READS, OVERLAP, ProjectTaskIndex

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


def _linked(gid: str, at: datetime, *, on: str, on_done: bool) -> Task:
    return Task.model_validate(
        {"gid": gid, "name": gid, "modified_at": at, "dependencies": [{"gid": on, "completed": on_done}]}
    )


def test_a_noted_task_missing_from_the_changes_reads_the_project_whole() -> None:
    """Asana's modified_at does not move when a task joins or leaves a project: the event does."""
    reader = Reader([_task("1", "a", T0), _task("2", "b", T0)])
    index = ProjectTaskIndex(clock=lambda: 0.0)
    index.tasks(reader, "p")
    del reader.tasks["2"]  # removed from the project; its stamp is unchanged
    reader.tasks["7"] = _task("7", "moved in", T0 - timedelta(days=3))  # added, an old stamp
    index.note(reader.base_url, "2")
    index.note(reader.base_url, "7", project_gid="p")
    index.note(reader.base_url, "9", project_gid="other")  # another project's event: not ours
    assert {t.gid for t in index.tasks(reader, "p")} == {"1", "7"}
    assert [c[0] for c in reader.calls] == ["whole", "since", "whole"]
    # Once read, nothing is pending: the next read asks for changes only.
    index.tasks(reader, "p")
    assert [c[0] for c in reader.calls][-1] == "since" and index.whole_reads == 2


def test_a_noted_task_among_the_changes_needs_no_whole_read() -> None:
    reader = Reader([_task("1", "a", T0)])
    index = ProjectTaskIndex(clock=lambda: 0.0)
    index.tasks(reader, "p")
    reader.tasks["1"] = _task("1", "a, due later", T0 + timedelta(minutes=2))
    index.note(reader.base_url, "1")
    assert [t.name for t in index.tasks(reader, "p")] == ["a, due later"]
    assert index.whole_reads == 1 and index.delta_reads == 1


def test_a_linked_task_outside_the_project_is_followed_and_members_carry_their_links() -> None:
    """A dependent's copy carries its prerequisite's completion: a member prerequisite's newer copy
    corrects it; a prerequisite outside the project, once an event names it, means a whole read."""
    reader = Reader(
        [
            _linked("1", T0, on="2", on_done=False),
            _task("2", "b", T0),
            _linked("3", T0, on="x", on_done=False),
        ]
    )
    index = ProjectTaskIndex(clock=lambda: 0.0)
    index.tasks(reader, "p")
    reader.tasks["2"] = Task(gid="2", name="b", completed=True, modified_at=T0 + timedelta(minutes=1))
    by_gid = {t.gid: t for t in index.tasks(reader, "p")}
    assert (by_gid["1"].dependencies[0].model_extra or {})["completed"] is True
    assert index.whole_reads == 1
    index.note(reader.base_url, "x")  # the outside prerequisite changed (completed, say)
    index.tasks(reader, "p")
    assert index.whole_reads == 2


def test_views_are_kept_apart() -> None:
    class Viewed(Reader):
        def project_tasks(self, project_gid: str, view: Any = TaskView.PLANNING) -> list[Task]:
            self.calls.append(("whole", view))
            return list(self.tasks.values())

        def project_tasks_modified_since(
            self, project_gid: str, since: datetime, view: Any = TaskView.PLANNING
        ) -> list[Task]:
            self.calls.append(("since", view))
            return []

    reader = Viewed([_task("1", "a", T0)])
    index = ProjectTaskIndex(clock=lambda: 0.0)
    index.tasks(reader, "p")
    index.tasks(reader, "p", TaskView.STANDUP)
    index.tasks(reader, "p", TaskView.STANDUP)
    assert reader.calls == [
        ("whole", TaskView.PLANNING),
        ("whole", TaskView.STANDUP),
        ("since", TaskView.STANDUP),
    ]


class OneByOne(Reader):
    """A reader that can also read one task; `elsewhere` holds tasks that are not in project p."""

    def __init__(self, tasks: list[Task], elsewhere: list[Task] = ()) -> None:  # type: ignore[assignment]
        super().__init__(tasks)
        self.elsewhere = {t.gid: t for t in elsewhere}

    def task(self, gid: str, view: Any = None) -> Task:
        self.calls.append(("task", gid))
        found = self.tasks.get(gid) or self.elsewhere.get(gid)
        if found is None:
            raise NotFound(404, "gone")
        return found


def _in(project: str, gid: str, **fields: Any) -> Task:
    return Task.model_validate(
        {"gid": gid, "name": gid, "modified_at": T0, "memberships": [{"project": {"gid": project}}], **fields}
    )


# The newest stamp in project p: the others are older than a change read's window.
NEWEST = _in("p", "w", modified_at=T0 + timedelta(hours=1))


def test_a_few_noted_tasks_are_read_one_by_one_instead_of_the_project() -> None:
    reader = OneByOne([_in("p", "1"), _in("p", "2"), _in("p", "3"), NEWEST])
    index = ProjectTaskIndex(clock=lambda: 0.0)
    index.tasks(reader, "p")
    reader.elsewhere["2"] = _in("q", "2")  # moved to project q: same stamp
    del reader.tasks["2"]
    del reader.tasks["3"]  # deleted
    reader.tasks["4"] = _in("p", "4")  # added with an old stamp
    for gid in ("2", "3"):
        index.note(reader.base_url, gid)
    index.note(reader.base_url, "4", project_gid="p")
    assert {t.gid for t in index.tasks(reader, "p")} == {"1", "4", "w"}
    assert [c[0] for c in reader.calls] == ["whole", "since", "task", "task", "task"]
    assert index.whole_reads == 1


def test_a_prerequisite_outside_the_project_read_on_its_own_updates_its_dependents() -> None:
    dependent = _in("p", "1", dependencies=[{"gid": "x", "completed": False, "name": "x"}])
    reader = OneByOne([dependent, NEWEST], elsewhere=[_in("q", "x", completed=True, name="x, done")])
    index = ProjectTaskIndex(clock=lambda: 0.0)
    index.tasks(reader, "p")
    index.note(reader.base_url, "x")
    task = next(t for t in index.tasks(reader, "p") if t.gid == "1")
    assert (task.dependencies[0].model_extra or {})["completed"] is True and task.dependencies[
        0
    ].name == "x, done"
    assert index.whole_reads == 1


def test_more_noted_tasks_than_a_few_read_the_project_whole() -> None:
    reader = OneByOne([*(_in("p", str(n)) for n in range(6)), NEWEST])
    index = ProjectTaskIndex(clock=lambda: 0.0)
    index.tasks(reader, "p")
    for n in range(MAX_TASK_READS + 1):
        index.note(reader.base_url, str(n))
    index.tasks(reader, "p")
    assert [c[0] for c in reader.calls] == ["whole", "since", "whole"]
