"""Save/load recorded sprints as JSON: byte-stable (sorted keys, fixed indent) and round-trip exact."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from evals.recorded.models import FORMAT_NAME, FORMAT_VERSION, RecordedSprint
from tools.errors import UserError


class FormatError(UserError, ValueError):
    """A file that is not a recorded sprint of a version this code reads."""


def dumps(sprint: RecordedSprint) -> str:
    return json.dumps(sprint.model_dump(mode="json"), sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def save_recorded(sprint: RecordedSprint, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(sprint), encoding="utf-8")
    return path


def load_recorded(path: Path) -> RecordedSprint:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise FormatError(f"{path}: not readable JSON ({err})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT_NAME:
        raise FormatError(f"{path}: not a recorded sprint (format must be {FORMAT_NAME!r})")
    if raw.get("version") != FORMAT_VERSION:
        raise FormatError(
            f"{path}: recorded-sprint version {raw.get('version')!r} is not supported (this code reads "
            f"version {FORMAT_VERSION})"
        )
    try:
        return RecordedSprint.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FormatError(f"{path}: {where}: {first['msg']}") from None


def load_recorded_dir(folder: Path) -> list[RecordedSprint]:
    """Every `*.json` recording in a folder, in sequence order."""
    sprints = [load_recorded(p) for p in sorted(folder.glob("*.json"))]
    return sorted(sprints, key=lambda s: s.sequence)
