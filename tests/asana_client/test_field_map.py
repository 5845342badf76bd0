from __future__ import annotations

import datetime as dt

import pytest

from tools.asana import InvalidFieldValue, MissingCustomField
from tools.asana.field_map import FieldMap
from tools.asana.models import CustomFieldSetting, Task, User


def setting(gid: str, name: str, subtype: str, **extra: object) -> CustomFieldSetting:
    return CustomFieldSetting.model_validate(
        {
            "gid": f"s{gid}",
            "project": {"gid": "42", "name": "Product Backlog"},
            "custom_field": {"gid": gid, "name": name, "resource_subtype": subtype, **extra},
        }
    )


PRIORITY_OPTIONS = [
    {"gid": "o1", "name": "Critical"},
    {"gid": "o2", "name": "High"},
    {"gid": "o3", "name": "Medium"},
    {"gid": "o4", "name": "Old", "enabled": False},
]


@pytest.fixture
def fmap() -> FieldMap:
    return FieldMap(
        "42",
        [
            setting("c1", "Story Points", "number", precision=0),
            setting("c2", "Priority", "enum", enum_options=PRIORITY_OPTIONS),
            setting(
                "c3",
                "Skills",
                "multi_enum",
                enum_options=[{"gid": "m1", "name": "backend"}, {"gid": "m2", "name": "qa"}],
            ),
            setting("c4", "Sprint", "text"),
            setting("c5", "Target", "date"),
            setting("c6", "Reviewers", "people"),
        ],
    )


def test_encode_each_type(fmap: FieldMap) -> None:
    assert fmap.encode("Story Points", 5) == 5
    assert fmap.encode("Story Points", "8") == 8
    assert fmap.encode("Story Points", 2.5) == 2.5
    assert fmap.encode("Priority", "High") == "o2"
    assert fmap.encode("priority", "critical") == "o1"
    assert fmap.encode("Priority", "o3") == "o3"
    assert fmap.encode("Skills", ["backend", "qa", "backend"]) == ["m1", "m2"]
    assert fmap.encode("Skills", "qa") == ["m2"]
    assert fmap.encode("Sprint", "Sprint 23") == "Sprint 23"
    assert fmap.encode("Target", dt.date(2026, 12, 1)) == {"date": "2026-12-01"}
    assert fmap.encode("Target", "2026-12-01") == {"date": "2026-12-01"}
    assert fmap.encode("Reviewers", [User(gid="77", name="Ana"), "78"]) == ["77", "78"]
    assert fmap.encode("Priority", None) is None
    assert fmap.to_custom_fields({"Story Points": 3, "Priority": "Medium"}) == {"c1": 3, "c2": "o3"}


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("Story Points", "lots", "expected a number"),
        ("Story Points", True, "boolean"),
        ("Story Points", float("nan"), "finite"),
        ("Priority", "Urgent", "options are 'Critical', 'High', 'Medium'"),
        ("Priority", "Old", "disabled"),
        ("Priority", 3, "expected an option name"),
        ("Skills", ["frontend"], "no option 'frontend'"),
        ("Sprint", 23, "expected text"),
        ("Sprint", "x" * 1025, "1024"),
        ("Target", "next friday", "YYYY-MM-DD"),
        ("Target", "2026-02-30", "YYYY-MM-DD"),
        ("Reviewers", ["Ana"], "user gid"),
    ],
)
def test_encode_errors_are_clear(fmap: FieldMap, name: str, value: object, fragment: str) -> None:
    with pytest.raises(InvalidFieldValue) as info:
        fmap.encode(name, value)
    assert fragment in str(info.value)
    assert name in str(info.value)
    assert isinstance(info.value, ValueError)


def test_missing_field_names_project_and_existing_fields(fmap: FieldMap) -> None:
    with pytest.raises(MissingCustomField) as info:
        fmap.require("Risk Score")
    message = str(info.value)
    assert "'Risk Score'" in message and "Product Backlog" in message and "42" in message
    assert "'Story Points'" in message and "'Priority'" in message
    with pytest.raises(MissingCustomField, match="Risk Score, Effort"):
        fmap.require_all(["Story Points", "Risk Score", "Effort"])
    assert "Story Points" in fmap and "Risk Score" not in fmap and len(fmap) == 6


def test_task_typed_values_and_display() -> None:
    task = Task.model_validate(
        {
            "gid": "1",
            "custom_fields": [
                {
                    "gid": "c1",
                    "name": "Story Points",
                    "resource_subtype": "number",
                    "number_value": 5.0,
                    "precision": 0,
                    "display_value": "5",
                },
                {
                    "gid": "c7",
                    "name": "AI Priority Score",
                    "type": "number",
                    "number_value": 7.25,
                    "precision": 1,
                },
                {
                    "gid": "c2",
                    "name": "Priority",
                    "resource_subtype": "enum",
                    "enum_value": {"gid": "o2", "name": "High"},
                    "display_value": "High",
                },
                {
                    "gid": "c3",
                    "name": "Skills",
                    "resource_subtype": "multi_enum",
                    "multi_enum_values": [{"gid": "m1", "name": "backend"}, {"gid": "m2", "name": "qa"}],
                    "display_value": "backend, qa",
                },
                {"gid": "c4", "name": "Sprint", "resource_subtype": "text", "text_value": "Sprint 23"},
                {
                    "gid": "c5",
                    "name": "Target",
                    "resource_subtype": "date",
                    "date_value": {"date": "2026-12-01", "date_time": None},
                },
                {
                    "gid": "c6",
                    "name": "Reviewers",
                    "resource_subtype": "people",
                    "people_value": [{"gid": "77", "name": "Ana"}],
                },
                {"gid": "c8", "name": "Effort", "resource_subtype": "number", "number_value": None},
            ],
        }
    )
    assert task.field("Story Points") == 5 and isinstance(task.field("Story Points"), int)
    assert task.field("AI Priority Score") == 7.25
    assert task.field("Priority") == "High"
    assert task.field("Skills") == ["backend", "qa"]
    assert task.field("Sprint") == "Sprint 23"
    assert task.field("Target") == dt.date(2026, 12, 1)
    assert task.field("Reviewers") == ["Ana"]
    assert task.field("Effort") is None and task.has_field("Effort")
    assert task.field("Nope") is None and not task.has_field("Nope")
    assert task.display("Skills") == "backend, qa"
    assert task.display("Target") == "2026-12-01"  # rendered when display_value was not fetched
    assert task.display("Effort") is None
    # Numeric reads: numbers as floats; unset, missing, or non-numeric values are None.
    assert task.number("Story Points") == 5.0 and isinstance(task.number("Story Points"), float)
    assert task.number("AI Priority Score") == 7.25
    assert task.number("Effort") is None and task.number("Nope") is None
    assert task.number("Priority") is None and task.number("Skills") is None
    assert task.number("Target") is None and task.number("Sprint") is None
    assert task.text("Priority") == "High" and task.text("Story Points") == "5"
    assert task.text("Effort") is None and task.text("Nope") is None
