"""The worker's look at the inbox that keeps the process's task lists honest (issue 23).

Every worker process notes every task event any receiver stored, so a list kept with
modified_since reads learns of membership and link changes it cannot see itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from service.db.engine import write_session
from service.db.events import InboxEvent
from service.events import index_feed
from service.events.index_feed import InboxFeed
from tools.asana.task_index import ProjectTaskIndex

ASANA = "https://asana.example/api/1.0"


class Recorder(ProjectTaskIndex):
    def __init__(self) -> None:
        super().__init__()
        self.noted: list[tuple[str, str | None]] = []
        self.forgotten = 0

    def note(self, base_url: str, task_gid: str, project_gid: str | None = None) -> None:
        self.noted.append((task_gid, project_gid))

    def forget(self, base_url: str) -> None:
        self.forgotten += 1


def _store(
    engine: Engine,
    n: int,
    *,
    action: str = "changed",
    kind: str = "task",
    row_id: int | None = None,
    project: str = "P",
) -> None:
    payload: dict[str, Any] = {
        "action": action,
        "resource": {"gid": f"t{n}", "resource_type": kind},
        "parent": {"gid": project, "resource_type": "project"} if action in ("added", "removed") else None,
    }
    with write_session(engine) as session:
        session.add(
            InboxEvent(
                id=row_id,
                dedup_key=f"k{n}",
                source="webhook",
                resource_gid=f"t{n}",
                resource_type=kind,
                action=action,
                payload=payload,
            )
        )


def test_notes_each_stored_task_event_once_with_the_project_it_joined_or_left(engine: Engine) -> None:
    index = Recorder()
    feed = InboxFeed(index)
    _store(engine, 1)
    assert feed.catch_up(engine, ASANA) == 0  # the first look: only what comes later matters
    assert index.forgotten == 1  # and what the process kept before it is read afresh
    _store(engine, 2)
    _store(engine, 3, action="removed")
    _store(engine, 4, action="added", project="Q")
    _store(engine, 5, kind="story")  # not a task: nothing to note
    assert feed.catch_up(engine, ASANA) == 3
    assert index.noted == [("t2", None), ("t3", "P"), ("t4", "Q")]
    assert feed.catch_up(engine, ASANA) == 0  # nothing new, nothing noted twice


def test_a_row_committed_late_with_a_lower_id_is_still_noted(engine: Engine) -> None:
    """Ids come from a sequence and receivers commit in any order."""
    index = Recorder()
    feed = InboxFeed(index)
    _store(engine, 1, row_id=100)
    feed.catch_up(engine, ASANA)
    _store(engine, 2, row_id=110)
    feed.catch_up(engine, ASANA)
    _store(engine, 3, row_id=105)  # took its id before row 110 and committed after it
    feed.catch_up(engine, ASANA)
    assert index.noted == [("t2", None), ("t3", None)]


def test_a_gap_too_long_to_read_drops_the_kept_lists(engine: Engine, monkeypatch: Any) -> None:
    monkeypatch.setattr(index_feed, "MAX_ROWS", 3)
    monkeypatch.setattr(index_feed, "OVERLAP_ROWS", 1)
    index = Recorder()
    feed = InboxFeed(index)
    feed.catch_up(engine, ASANA)
    for n in range(6):
        _store(engine, n)
    feed.catch_up(engine, ASANA)
    assert index.noted == [] and index.forgotten == 2
