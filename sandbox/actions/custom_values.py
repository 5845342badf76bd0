"""Validation of `custom_fields: {gid: value}` writes, as strict as Asana's (400 on misuse)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sandbox.errors import bad_request
from sandbox.records import CustomField, Portfolio, Project, Task
from sandbox.store import Store

TEXT_LIMIT = 1024


def fields_available(store: Store, task: Task) -> set[str]:
    """Custom fields a task may hold: the settings of all its projects."""
    projects = (store.projects.get(m["project"]) for m in task.memberships)
    return _fields_of(store, (p for p in projects if p is not None))


def validate_values(store: Store, task: Task, values: Any) -> dict[str, Any]:
    """Raw stored values for a write; raises 400 for any invalid entry (nothing is applied)."""
    return _validate(
        store,
        task.workspace,
        fields_available(store, task) | set(task.custom_fields),
        values,
        "add it to one of the task's projects first",
    )


def project_fields_available(store: Store, project: Project) -> set[str]:
    """Custom fields a project may hold: the settings of every portfolio it is an item of.

    Asana's field settings go one level down: a project's own settings are columns of its tasks,
    a portfolio's settings are columns of its projects.
    """
    return _fields_of(store, (p for p in store.portfolios.values() if project.gid in p.items))


def _fields_of(store: Store, owners: Iterable[Project | Portfolio]) -> set[str]:
    """The custom fields set on any of `owners` (their field settings)."""
    return {store.field_settings[s].custom_field for o in owners for s in o.custom_field_settings}


def validate_project_values(store: Store, project: Project, values: Any) -> dict[str, Any]:
    """Like `validate_values`, for `PUT /projects/{gid}` with `custom_fields`."""
    return _validate(
        store,
        project.workspace,
        project_fields_available(store, project) | set(project.custom_fields),
        values,
        "add it to a portfolio that holds the project first",
    )


def _validate(store: Store, workspace: str, available: set[str], values: Any, hint: str) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise bad_request("custom_fields: Value is not an object")
    out: dict[str, Any] = {}
    for cf_gid, value in values.items():
        cf = store.custom_fields.get(str(cf_gid))
        if cf is None:
            raise bad_request(f"custom_fields: Unknown custom field: {cf_gid}")
        if cf.workspace != workspace:
            raise bad_request(f"custom_fields: Custom field {cf_gid} is not in the object's workspace")
        if cf.gid not in available:
            raise bad_request(f"custom_fields: Custom field {cf_gid} is not on given object; {hint}")
        out[cf.gid] = raw_value(store, cf, value)
    return out


def raw_value(store: Store, cf: CustomField, value: Any) -> Any:
    if value is None:
        return None
    kind = cf.resource_subtype
    where = f"custom_fields.{cf.gid}"
    if kind == "text":
        if not isinstance(value, str):
            raise bad_request(f"{where}: Text custom field value must be a string")
        if len(value) > TEXT_LIMIT:
            raise bad_request(f"{where}: Text value longer than {TEXT_LIMIT} characters")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise bad_request(f"{where}: Number custom field value must be a number")
        return round(float(value), cf.precision)
    if kind == "enum":
        if not isinstance(value, str):
            raise bad_request(f"{where}: Enum custom field value must be an enum option gid")
        _check_option(store, cf, value, where)
        return value
    if kind == "multi_enum":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad_request(f"{where}: Multi-enum custom field value must be a list of enum option gids")
        for v in value:
            _check_option(store, cf, v, where)
        return list(dict.fromkeys(value))
    if kind == "date":
        if not isinstance(value, dict) or not ({"date", "date_time"} & set(value)):
            raise bad_request(
                f'{where}: Date custom field value must be an object like {{"date": "YYYY-MM-DD"}}'
            )
        return _date_value(value, where)
    if kind == "people":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad_request(f"{where}: People custom field value must be a list of user gids")
        for v in value:
            user = store.users.get(v)
            if user is None or cf.workspace not in user.workspaces:
                raise bad_request(f"{where}: Not a recognized user in this workspace: {v}")
        return list(dict.fromkeys(value))
    raise bad_request(f"{where}: Unsupported custom field type {kind}")


def _check_option(store: Store, cf: CustomField, gid: str, where: str) -> None:
    option = store.enum_options.get(gid)
    if option is None or option.custom_field != cf.gid:
        raise bad_request(f"{where}: enum option {gid} is not an option of custom field {cf.name!r}")
    if not option.enabled:
        raise bad_request(f"{where}: enum option {gid} is disabled")


def _date_value(value: dict[str, Any], where: str) -> dict[str, Any]:
    day, stamp = value.get("date"), value.get("date_time")
    try:
        if stamp is not None:
            parsed = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
            return {"date": parsed.date().isoformat(), "date_time": str(stamp)}
        if day is not None:
            date.fromisoformat(str(day))
            return {"date": str(day), "date_time": None}
    except ValueError:
        raise bad_request(f"{where}: Invalid date") from None
    return {"date": None, "date_time": None}
