"""The board a planned sprint copies (agents/planner/inputs.read_board) and the actions it becomes."""

from __future__ import annotations

from datetime import date
from typing import Any

from agents.planner.inputs import PastSprint, PlanningInputs, SprintBoard, read_board
from agents.planner.proposal import SPRINT_REF, build_actions, todo_index
from agents.proposal import ActionKind
from tools.asana.models import CustomField, CustomFieldSetting, Project, Ref, Section
from tools.planning.models import SprintRecord

BOT, PO, APPROVER = "900", "901", "902"


class Reader:
    def __init__(self, sections: dict[str, list[str]], fields: dict[str, list[str]]) -> None:
        self._sections, self._fields = sections, fields

    def sections(self, project_gid: str) -> list[Section]:
        return [
            Section(gid=f"{project_gid}{i}", name=n)
            for i, n in enumerate(self._sections.get(project_gid, []))
        ]

    def custom_field_settings(self, project_gid: str) -> list[CustomFieldSetting]:
        return [
            CustomFieldSetting(gid=f"s{i}", custom_field=CustomField(gid=f"f{i}", name=n))
            for i, n in enumerate(self._fields.get(project_gid, []))
        ]


def _inputs(
    backlog_owner: str | None, sprint_owner: str | None = None, with_sprint: bool = True
) -> PlanningInputs:
    backlog = Project(
        gid="1", name="Product Backlog", owner=Ref(gid=backlog_owner) if backlog_owner else None
    )
    sprint = Project(gid="23", name="Sprint 23", owner=Ref(gid=sprint_owner) if sprint_owner else None)
    sprints = (
        [PastSprint(number=23, project=sprint, record=SprintRecord(name="Sprint 23"))] if with_sprint else []
    )
    return PlanningInputs(
        workspace_gid="100",
        backlog=backlog,
        items=[],
        tasks={},
        done_gids=set(),
        people=[],
        sprints=sprints,
        bot_gid=BOT,
    )


def test_board_copies_the_last_sprints_columns_without_the_untitled_section() -> None:
    reader = Reader(
        {"23": ["Untitled section", "To do", "Doing", "Done"], "1": ["Icebox", "Ready"]},
        {"1": ["Story Points", "Risk Score"]},
    )
    board = read_board(reader, _inputs(PO, sprint_owner=BOT), APPROVER)
    assert board.sections == ["To do", "Doing", "Done"] and board.sections_from == "Sprint 23"
    assert board.fields == ["Story Points", "Risk Score"] and board.fields_from == "1"
    # The last sprint was the bot's (an older plan): the backlog's owner owns the new one.
    assert (board.owner_gid, board.owner_from) == (PO, "backlog")


def test_board_falls_back_to_the_backlogs_columns_then_the_default() -> None:
    backlog_only = read_board(
        Reader({"1": ["Icebox", "Ready", "Done"]}, {}), _inputs(None, with_sprint=False), APPROVER
    )
    assert (
        backlog_only.sections == ["Icebox", "Ready", "Done"]
        and backlog_only.sections_from == "Product Backlog"
    )
    assert backlog_only.fields == [] and backlog_only.fields_from is None
    assert (backlog_only.owner_gid, backlog_only.owner_from) == (APPROVER, "approver")
    nothing = read_board(Reader({"1": ["Untitled section"]}, {}), _inputs(BOT), None)
    assert nothing.sections == ["To do", "In progress", "Done"] and nothing.sections_from == "default"
    assert nothing.owner_gid is None  # never the bot


def test_the_last_sprints_human_owner_comes_first() -> None:
    board = read_board(Reader({"23": ["To Do"]}, {}), _inputs(PO, sprint_owner="903"), APPROVER)
    assert (board.owner_gid, board.owner_from) == ("903", "last sprint")


def test_planned_tasks_go_to_the_to_do_column() -> None:
    assert todo_index(["Icebox", "Backlog", "Ready", "In Progress", "Done"]) == 2
    assert todo_index(["Doing", "To Do", "Done"]) == 1
    assert todo_index(["Now", "Next"]) == 0


def test_actions_set_up_the_board_the_first_column_takes_over_the_default_section() -> None:
    from types import SimpleNamespace

    board = SprintBoard(
        sections=["Backlog", "Ready", "Done"],
        sections_from="Product Backlog",
        fields=["Story Points", "Risk Score"],
        fields_from="1",
        owner_gid=PO,
        owner_from="backlog",
    )
    plan: Any = SimpleNamespace(chosen=[], assignment=None, scores={})  # the board setup only
    actions = build_actions(
        plan, _inputs(PO), "Sprint 24", (date(2026, 11, 23), date(2026, 12, 4)), "s", board
    )
    create, fields, *sections, _status = actions
    assert create.kind is ActionKind.CREATE_PROJECT and create.params["owner_gid"] == PO
    assert fields.kind is ActionKind.ADD_PROJECT_FIELDS and fields.target == f"ref:{SPRINT_REF}"
    assert fields.params == {"fields": ["Story Points", "Risk Score"], "source": "1"}
    assert [(s.params["name"], s.params["rename_default"]) for s in sections] == [
        ("Backlog", True),
        ("Ready", False),
        ("Done", False),
    ]
