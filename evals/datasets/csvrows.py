"""Read a dataset CSV into pydantic rows, failing with the file and line of the first bad row.

Every loader goes through `read_rows` so a malformed file (missing column, wrong type, ragged
row, undecodable bytes) stops with one clear message such as
``sprints.csv line 7: column 'completedIssuesCount': Input should be a valid integer`` rather
than a traceback from deep inside a model.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tools.errors import UserError

M = TypeVar("M", bound=BaseModel)
# Some upstream cells hold long issue descriptions.
csv.field_size_limit(10_000_000)


class DatasetError(UserError, ValueError):
    """A dataset file that cannot be read as its documented format."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        where = f"{path} line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


def _explain(err: ValidationError, columns: dict[str, str]) -> str:
    first = err.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    column = columns.get(field, field)
    return f"column {column!r}: {first['msg']}" if column else first["msg"]


def _open_rows(path: Path) -> Iterator[tuple[int, list[str], list[str]]]:
    """(line number, header, cells) per data row; blank lines are skipped."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            try:
                header = next(reader)
            except StopIteration:
                raise DatasetError(path, None, "file is empty (no header row)") from None
            for cells in reader:
                if not cells or all(not c.strip() for c in cells):
                    continue
                yield reader.line_num, header, cells
    except UnicodeDecodeError as err:
        raise DatasetError(path, None, f"not valid UTF-8 ({err.reason} at byte {err.start})") from None
    except csv.Error as err:
        raise DatasetError(path, None, f"malformed CSV: {err}") from None


def read_rows(
    path: Path,
    model: type[M],
    *,
    required: Sequence[str],
    rename: dict[str, str] | None = None,
    prepare: Callable[[dict[str, str]], dict[str, Any]] | None = None,
) -> list[M]:
    """Validate every row of `path` against `model`.

    `required` are the CSV columns that must be in the header; `rename` maps CSV column → model
    field (other columns keep their name); `prepare` may normalise the raw dict first (e.g.
    turn "NULL" into None).
    """
    if not path.is_file():
        raise DatasetError(path, None, "file not found")
    rename = rename or {}
    columns = {rename.get(c, c): c for c in required}
    rows: list[M] = []
    checked = False
    for line, header, cells in _open_rows(path):
        if not checked:
            missing = [c for c in required if c not in header]
            if missing:
                raise DatasetError(path, 1, f"missing column(s): {', '.join(missing)}")
            checked = True
        if len(cells) != len(header):
            raise DatasetError(path, line, f"expected {len(header)} cells, found {len(cells)}")
        raw = {rename.get(h, h): v for h, v in zip(header, cells, strict=True)}
        if prepare is not None:
            raw = prepare(raw)
        try:
            rows.append(model.model_validate(raw))
        except ValidationError as err:
            raise DatasetError(path, line, _explain(err, columns)) from None
    if not checked:
        # Header only: validate the header anyway so an empty but wrong file is still reported.
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), [])
        missing = [c for c in required if c not in header]
        if missing:
            raise DatasetError(path, 1, f"missing column(s): {', '.join(missing)}")
    return rows


def nullify(*tokens: str) -> Callable[[dict[str, str]], dict[str, Any]]:
    """A `prepare` step that turns the given placeholder strings (e.g. "NULL", "null") into None."""
    marks = set(tokens)

    def prepare(raw: dict[str, str]) -> dict[str, Any]:
        return {k: (None if v in marks else v) for k, v in raw.items()}

    return prepare


def find_dir(root: Path, *candidates: str) -> Path:
    """The first existing `root/<candidate>` (so `--data` may be the datasets root or a subfolder)."""
    for cand in candidates:
        path = root / cand if cand else root
        if path.is_dir():
            return path
    tried = ", ".join(str(root / c) if c else str(root) for c in candidates)
    raise DatasetError(root, None, f"dataset folder not found (tried {tried})")
