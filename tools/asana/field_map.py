"""Custom fields of one project, resolved by name, and encoding of human values for writes.

Agents speak in names ("Story Points", "Priority" = "High"); Asana writes want
`custom_fields: {<field gid>: <value in the field type's format>}`. FieldMap is the bridge, and
its errors say what *does* exist so a misconfigured workspace is diagnosed from the message alone.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from tools.asana.errors import InvalidFieldValue, MissingCustomField
from tools.asana.models import CustomField, CustomFieldSetting, EnumOption, Ref, User

TEXT_LIMIT = 1024  # Asana's limit for text custom field values
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FieldMap:
    """The custom fields set up on one project, looked up by (case-insensitive) name."""

    def __init__(
        self, project_gid: str, settings: Iterable[CustomFieldSetting], project_name: str | None = None
    ):
        self.project_gid = project_gid
        self.settings = list(settings)
        self.project_name = project_name or next(
            (s.project.name for s in self.settings if s.project and s.project.name), None
        )
        self._by_name: dict[str, CustomField] = {}
        self._by_folded: dict[str, CustomField] = {}
        self._by_gid: dict[str, CustomField] = {}
        for setting in self.settings:
            cf = setting.custom_field
            self._by_gid[cf.gid] = cf
            if cf.name:
                self._by_name.setdefault(cf.name, cf)
                self._by_folded.setdefault(cf.name.casefold(), cf)

    # --- lookup -------------------------------------------------------------------------------

    @property
    def project_label(self) -> str:
        return f"{self.project_name!r} ({self.project_gid})" if self.project_name else self.project_gid

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    @property
    def fields(self) -> list[CustomField]:
        return list(self._by_gid.values())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[CustomField]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self._by_gid)

    def get(self, name: str) -> CustomField | None:
        return self._by_name.get(name) or self._by_folded.get(name.casefold())

    def by_gid(self, gid: str) -> CustomField | None:
        return self._by_gid.get(gid)

    def require(self, name: str) -> CustomField:
        cf = self.get(name)
        if cf is None:
            raise MissingCustomField(name, self.project_label, self.names)
        return cf

    def require_all(self, names: Iterable[str]) -> dict[str, CustomField]:
        """All named fields, or one MissingCustomField naming every missing one."""
        wanted = list(names)
        missing = [n for n in wanted if self.get(n) is None]
        if missing:
            raise MissingCustomField(", ".join(missing), self.project_label, self.names)
        return {n: self.require(n) for n in wanted}

    # --- encoding -----------------------------------------------------------------------------

    def encode(self, name: str, value: Any) -> Any:
        """The write-format value for field `name` (None clears the field)."""
        return encode_value(self.require(name), value)

    def to_custom_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """`{field name: human value}` → the `custom_fields` write payload `{gid: encoded}`."""
        return {self.require(name).gid: self.encode(name, value) for name, value in values.items()}


def encode_value(cf: CustomField, value: Any) -> Any:
    """Encode one human value for a custom field definition."""
    name = cf.name or cf.gid
    if value is None:
        return None
    kind = cf.kind
    if kind == "number":
        return _encode_number(name, value)
    if kind == "text":
        return _encode_text(name, value)
    if kind == "enum":
        return _option_gid(cf, name, value)
    if kind == "multi_enum":
        items = [value] if isinstance(value, str | EnumOption) else _as_list(name, value)
        gids = [_option_gid(cf, name, v) for v in items]
        return list(dict.fromkeys(gids))
    if kind == "date":
        return {"date": _encode_date(name, value)}
    if kind == "people":
        items = [value] if isinstance(value, str | User | Ref) else _as_list(name, value)
        return [_person_gid(name, v) for v in items]
    raise InvalidFieldValue(name, f"writing fields of type {kind!r} is not supported")


def _as_list(name: str, value: Any) -> list[Any]:
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    raise InvalidFieldValue(name, f"expected a list, got {type(value).__name__} {value!r}")


def _encode_number(name: str, value: Any) -> int | float:
    if isinstance(value, bool):
        raise InvalidFieldValue(name, f"expected a number, got a boolean {value!r}")
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise InvalidFieldValue(name, f"expected a number, got {value!r}") from None
    else:
        raise InvalidFieldValue(name, f"expected a number, got {type(value).__name__} {value!r}")
    if isinstance(number, float):
        if not math.isfinite(number):
            raise InvalidFieldValue(name, f"expected a finite number, got {value!r}")
        if number.is_integer():
            return int(number)
    return number


def _encode_text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidFieldValue(name, f"expected text, got {type(value).__name__} {value!r}")
    if len(value) > TEXT_LIMIT:
        raise InvalidFieldValue(name, f"text is {len(value)} characters; Asana allows {TEXT_LIMIT}")
    return value


def _option_gid(cf: CustomField, name: str, value: Any) -> str:
    options = cf.enum_options
    if isinstance(value, EnumOption):
        value = value.gid
    if not isinstance(value, str):
        raise InvalidFieldValue(name, f"expected an option name, got {type(value).__name__} {value!r}")
    wanted = value.strip()
    match = next((o for o in options if o.name == wanted), None)
    match = match or next((o for o in options if o.name and o.name.casefold() == wanted.casefold()), None)
    match = match or next((o for o in options if o.gid == wanted), None)
    if match is None:
        shown = ", ".join(repr(o.name) for o in options if o.enabled is not False) or "none"
        raise InvalidFieldValue(name, f"no option {value!r}; options are {shown}")
    if match.enabled is False:
        raise InvalidFieldValue(name, f"option {match.name!r} is disabled")
    return match.gid


def _encode_date(name: str, value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise InvalidFieldValue(name, f"expected a date (YYYY-MM-DD), got {value!r}")


def _person_gid(name: str, value: Any) -> str:
    if isinstance(value, User | Ref):
        return value.gid
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    raise InvalidFieldValue(name, f"expected a user gid or User, got {value!r}")
