"""The recorded-sprint format: exact save/load round trip, versioning, consistency checks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from evals.recorded import FormatError, RecordedSprint, load_recorded, save_recorded
from evals.recorded.models import (
    AssigneeChanged,
    Commented,
    Outcome,
    RecordedField,
    RecordedMembership,
    RecordedProject,
    RecordedTask,
    RecordedUser,
    ReEstimated,
    Snapshot,
    SourceRef,
    TaskAdded,
    TaskCompleted,
    TaskMoved,
    TaskRemoved,
)


def sample() -> RecordedSprint:
    task = RecordedTask(
        id="XD-1",
        name="Channel registry",
        notes="Acceptance criteria:\n- registry works — ünïcode",
        assignee="u1",
        tags=["story"],
        fields={"Story Points": 3.0, "Priority": "High", "Business Value": 60.0, "Effort": 3.0},
        memberships=[RecordedMembership(project="backlog", section="Ready")],
        dependencies=["XD-2"],
    )
    other = task.model_copy(update={"id": "XD-2", "name": "Tuple", "dependencies": [], "assignee": None})
    added = RecordedTask(id="XD-9", name="Late bug", fields={"Story Points": None})
    return RecordedSprint(
        id="tiny-1",
        sequence=1,
        name="Sprint 1",
        start_on=date(2013, 4, 15),
        end_on=date(2013, 4, 28),
        source=SourceRef(dataset="synthetic", project="Tiny", sprint_id="1", sprint_name="Sprint 1"),
        snapshot=Snapshot(
            workspace="W",
            team="T",
            users=[RecordedUser(id="u1", name="Dev 1", email="dev1@example.invalid")],
            fields=[
                RecordedField(name="Story Points", type="number"),
                RecordedField(name="Priority", type="enum", options=["High", "Low"]),
            ],
            projects=[
                RecordedProject(
                    id="backlog", name="Product Backlog", kind="backlog", sections=["Backlog", "Ready"]
                ),
                RecordedProject(
                    id="sprint",
                    name="Sprint 1",
                    kind="sprint",
                    sections=["To Do", "Done"],
                    start_on=date(2013, 4, 15),
                    due_on=date(2013, 4, 28),
                ),
            ],
            tasks=[task, other],
            sprint_scope=["XD-1", "XD-2"],
        ),
        events=[
            TaskMoved(day=0, task="XD-1", project="sprint", section="In Progress"),
            TaskAdded(day=2, task="XD-9", data=added),
            ReEstimated(day=3, task="XD-9", old=None, new=5.0),
            Commented(day=4, task="XD-1", author="u1", text="blocked by the build"),
            AssigneeChanged(day=5, task="XD-2", old=None, new="u1"),
            TaskRemoved(day=6, task="XD-2", project="sprint"),
            TaskCompleted(day=9, task="XD-1"),
        ],
        outcome=Outcome(
            completed_points=3,
            punted_points=3,
            not_completed_points=5,
            completed_items=["XD-1"],
            punted_items=["XD-2"],
            not_completed_items=["XD-9"],
        ),  # fmt: skip
    )


def test_round_trip_is_exact(tmp_path: Path) -> None:
    original = sample()
    path = save_recorded(original, tmp_path / "a.json")
    loaded = load_recorded(path)
    assert loaded == original
    assert [type(e) for e in loaded.events] == [type(e) for e in original.events]
    again = save_recorded(loaded, tmp_path / "b.json")
    assert again.read_bytes() == path.read_bytes()
    assert loaded.length_days == 14


def test_version_and_format_are_checked(tmp_path: Path) -> None:
    path = save_recorded(sample(), tmp_path / "a.json")
    raw = json.loads(path.read_text())
    raw["version"] = 2
    path.write_text(json.dumps(raw))
    with pytest.raises(FormatError, match="version 2 is not supported"):
        load_recorded(path)
    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(FormatError, match="not a recorded sprint"):
        load_recorded(path)


def test_events_must_name_known_tasks_in_day_order() -> None:
    data = sample().model_dump(mode="json")
    data["events"].append({"type": "task_completed", "day": 10, "task": "XD-404"})
    with pytest.raises(ValidationError, match="unknown task 'XD-404'"):
        RecordedSprint.model_validate(data)
    data = sample().model_dump(mode="json")
    data["events"].insert(0, {"type": "task_completed", "day": 12, "task": "XD-1"})
    with pytest.raises(ValidationError, match="day order"):
        RecordedSprint.model_validate(data)
