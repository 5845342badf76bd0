"""Story-point datasets: the Deep-SE projects and the Tawosi et al. 2022 extra projects, read in place.

Layout (see shared/datasets/storypoints/README.md)::

    storypoints/
      anchors_deepse16_within_project.csv      published MAE numbers per Deep-SE project
      anchors_tawosi2022_extra_projects.csv    published MAE numbers per Tawosi project
      deepse/<project>.csv                     issuekey,title,description,storypoint
      deepse/original_splits/<project>_3sets.txt   "train valid test" one-hot rows, same order
      tawosi2022/<KEY>_deep-se.csv             issuekey,created,title,description,storypoint

Deep-SE projects keep their ORIGINAL split files; the Tawosi projects get the same chronological rule as
Deep-SE's ``divide_data_sortdate.py`` (train = first floor(0.6n)-1 rows, valid = next floor(0.2n)).
Every malformed input raises :class:`DatasetFormatError` naming the file and the line.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from tools.errors import NotFoundError, UserError

Split = Literal["train", "valid", "test"]
Source = Literal["deepse", "tawosi"]

DEEPSE_DIR = "deepse"
TAWOSI_DIR = "tawosi2022"
DEEPSE_ANCHORS = "anchors_deepse16_within_project.csv"
TAWOSI_ANCHORS = "anchors_tawosi2022_extra_projects.csv"
TAWOSI_SUFFIX = "_deep-se.csv"

_DEEPSE_HEADER = ["issuekey", "title", "description", "storypoint"]
_TAWOSI_HEADER = ["issuekey", "created", "title", "description", "storypoint"]
_SPLIT_HEADER = ["train", "valid", "test"]
_SPLITS: tuple[Split, Split, Split] = ("train", "valid", "test")


class DatasetFormatError(UserError, ValueError):
    """A dataset file does not have the expected native format; the message names file and line."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


class StoryPointIssue(BaseModel):
    model_config = ConfigDict(frozen=True)

    project: str
    source: Source
    row_index: int
    issue_key: str
    title: str
    description: str
    points: float
    split: Split
    created: datetime | None = None


class StoryPointProject(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    source: Source
    issues: tuple[StoryPointIssue, ...]

    def split(self, which: Split) -> list[StoryPointIssue]:
        return [i for i in self.issues if i.split == which]


class DeepSEAnchor(BaseModel):
    """Published numbers for one Deep-SE project (None where the table cell is empty)."""

    model_config = ConfigDict(frozen=True)

    project: str
    display_name: str
    key: str
    n_issues: int
    location: str
    deepse_mae_original_paper: float | None = None
    mean_mae_original_paper: float | None = None
    median_mae_original_paper: float | None = None
    deepse_sa_original_paper: float | None = None
    random_guess_mae_implied_original: float | None = None
    deepse_mae_replicated_tawosi2022: float | None = None
    gpt2sp_mae_corrected: float | None = None
    gpt2sp_mdae_corrected: float | None = None
    gpt2sp_sa_corrected: float | None = None
    mean_baseline_mae: float | None = None
    median_baseline_mae: float | None = None
    best_of_4_replicated: str | None = None


class TawosiAnchor(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    n_issues: int
    deepse_mae: float | None = None
    tfidf_svm_mae: float | None = None
    mean_baseline_mae: float | None = None
    median_baseline_mae: float | None = None


def resolve_root(data_dir: Path | str) -> Path:
    """Accept the storypoints folder itself or the datasets root that contains it."""
    base = Path(data_dir).expanduser()
    if not base.is_dir():
        raise FileNotFoundError(f"dataset directory not found: {base}")
    for candidate in (base, base / "storypoints"):
        if (candidate / DEEPSE_DIR).is_dir() or (candidate / TAWOSI_DIR).is_dir():
            return candidate
    raise FileNotFoundError(
        f"{base} holds no story-point data: expected {DEEPSE_DIR}/ or {TAWOSI_DIR}/ "
        f"in it or in {base}/storypoints"
    )


def _records(path: Path, header: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, fields) per CSV record after checking the header."""
    if not path.is_file():
        raise FileNotFoundError(f"dataset file not found: {path}")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh, strict=True)
            try:
                first = next(reader)
            except StopIteration:
                raise DatasetFormatError(path, 1, "empty file (no header)") from None
            if [h.strip().lower() for h in first] != list(header):
                raise DatasetFormatError(path, 1, f"header {first!r}, expected {list(header)!r}")
            end = reader.line_num
            while True:
                start = end + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as err:
                    raise DatasetFormatError(path, start, f"bad CSV: {err}") from None
                end = reader.line_num
                if not row:  # a blank line
                    continue
                if len(row) != len(header):
                    raise DatasetFormatError(path, start, f"{len(row)} fields, expected {len(header)}")
                yield start, row
    except UnicodeDecodeError as err:
        raise DatasetFormatError(path, None, f"not UTF-8 text ({err.reason})") from None


def _points(path: Path, line: int, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise DatasetFormatError(path, line, f"story points {raw!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise DatasetFormatError(path, line, f"story points {raw!r} must be a finite number >= 0")
    return value


def _description(raw: str) -> str:
    # Deep-SE writes a missing description as the literal NULL.
    return "" if raw.strip() == "NULL" else raw


def _read_split_file(path: Path) -> list[Split]:
    if not path.is_file():
        raise FileNotFoundError(f"split file not found: {path}")
    out: list[Split] = []
    with path.open(encoding="utf-8") as fh:
        for n, raw in enumerate(fh, 1):
            cells = raw.split()
            if n == 1:
                if cells != _SPLIT_HEADER:
                    raise DatasetFormatError(path, 1, f"header {cells!r}, expected {_SPLIT_HEADER!r}")
                continue
            if not cells:
                continue
            if len(cells) != 3 or sorted(cells) != ["0", "0", "1"]:
                raise DatasetFormatError(
                    path, n, f"expected one-hot 'train valid test' flags, got {raw.strip()!r}"
                )
            out.append(_SPLITS[cells.index("1")])
    return out


def tawosi_splits(n: int) -> list[Split]:
    """Deep-SE's divide_data_sortdate.py rule, which reproduces the published Tawosi baselines."""
    n_train = max(0, math.floor(0.6 * n) - 1)
    n_valid = math.floor(0.2 * n)
    train: list[Split] = ["train"] * n_train
    valid: list[Split] = ["valid"] * n_valid
    test: list[Split] = ["test"] * (n - n_train - n_valid)
    return train + valid + test


def deepse_projects(root: Path) -> list[str]:
    folder = root / DEEPSE_DIR
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.csv") if p.stem != "splits")


def tawosi_projects(root: Path) -> list[str]:
    folder = root / TAWOSI_DIR
    if not folder.is_dir():
        return []
    return sorted(p.name[: -len(TAWOSI_SUFFIX)] for p in folder.glob(f"*{TAWOSI_SUFFIX}"))


def load_deepse_project(root: Path, name: str) -> StoryPointProject:
    csv_path = root / DEEPSE_DIR / f"{name}.csv"
    split_path = root / DEEPSE_DIR / "original_splits" / f"{name}_3sets.txt"
    parsed = [
        (_key(csv_path, line, row[0]), row[1], _description(row[2]), _points(csv_path, line, row[3]))
        for line, row in _records(csv_path, _DEEPSE_HEADER)
    ]
    splits = _read_split_file(split_path)
    if len(splits) != len(parsed):
        raise DatasetFormatError(
            split_path, None, f"{len(splits)} split rows but {csv_path.name} has {len(parsed)} issues"
        )
    issues = tuple(
        StoryPointIssue(
            project=name,
            source="deepse",
            row_index=i,
            issue_key=key,
            title=title,
            description=description,
            points=points,
            split=split,
        )
        for i, ((key, title, description, points), split) in enumerate(zip(parsed, splits, strict=True))
    )
    return StoryPointProject(name=name, source="deepse", issues=issues)


def load_tawosi_project(root: Path, key: str) -> StoryPointProject:
    csv_path = root / TAWOSI_DIR / f"{key}{TAWOSI_SUFFIX}"
    rows = list(_records(csv_path, _TAWOSI_HEADER))
    splits = tawosi_splits(len(rows))
    issues = tuple(
        StoryPointIssue(
            project=key,
            source="tawosi",
            row_index=i,
            issue_key=_key(csv_path, line, row[0]),
            created=_created(csv_path, line, row[1]),
            title=row[2],
            description=_description(row[3]),
            points=_points(csv_path, line, row[4]),
            split=split,
        )
        for i, ((line, row), split) in enumerate(zip(rows, splits, strict=True))
    )
    return StoryPointProject(name=key, source="tawosi", issues=issues)


def _key(path: Path, line: int, raw: str) -> str:
    if not raw.strip():
        raise DatasetFormatError(path, line, "empty issue key")
    return raw.strip()


def _created(path: Path, line: int, raw: str) -> datetime:
    try:
        return datetime.strptime(raw.strip(), "%m/%d/%Y %H:%M:%S")
    except ValueError:
        raise DatasetFormatError(path, line, f"created {raw!r} is not MM/DD/YYYY HH:MM:SS") from None


def available_projects(data_dir: Path | str) -> list[tuple[Source, str]]:
    root = resolve_root(data_dir)
    found: list[tuple[Source, str]] = [("deepse", p) for p in deepse_projects(root)]
    found += [("tawosi", p) for p in tawosi_projects(root)]
    return found


def load_projects(data_dir: Path | str, names: Sequence[str] | None = None) -> list[StoryPointProject]:
    """Load the named projects (case-insensitive; Deep-SE names or Tawosi keys), or all of them."""
    root = resolve_root(data_dir)
    known = available_projects(root)
    if names is None:
        chosen = known
    else:
        by_name = {name.lower(): (src, name) for src, name in known}
        missing = [n for n in names if n.strip().lower() not in by_name]
        if missing:
            listing = ", ".join(n for _, n in known) or "none"
            raise NotFoundError(f"unknown project(s) {', '.join(missing)}; available: {listing}")
        chosen = [by_name[n.strip().lower()] for n in names]
    return [
        load_deepse_project(root, name) if src == "deepse" else load_tawosi_project(root, name)
        for src, name in chosen
    ]


def _optional_float(path: Path, line: int, column: str, raw: str) -> float | None:
    if raw.strip() == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise DatasetFormatError(path, line, f"{column} {raw!r} is not a number") from None


def _read_table(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise FileNotFoundError(f"anchor table not found: {path}")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, strict=True)
        header = next(reader, None)
        if not header:
            raise DatasetFormatError(path, 1, "empty file (no header)")
        end = reader.line_num
        for row in reader:
            start, end = end + 1, reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                raise DatasetFormatError(path, start, f"{len(row)} fields, expected {len(header)}")
            yield start, dict(zip(header, row, strict=True))


def _anchor_fields(
    path: Path, line: int, record: dict[str, str], model: type[BaseModel]
) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, field in model.model_fields.items():
        column = name
        if column not in record:
            if field.is_required():
                raise DatasetFormatError(path, line, f"missing column {column!r}")
            continue
        raw = record[column]
        annotation = str(field.annotation)
        if "float" in annotation:
            out[name] = _optional_float(path, line, column, raw)
        elif field.annotation is int:
            try:
                out[name] = int(raw)
            except ValueError:
                raise DatasetFormatError(path, line, f"{column} {raw!r} is not an integer") from None
        else:
            out[name] = raw.strip() or (None if not field.is_required() else raw)
    return out


_Anchor = TypeVar("_Anchor", bound=BaseModel)


def _load_anchors(
    data_dir: Path | str, file: str, model: type[_Anchor], key: Callable[[_Anchor], str]
) -> dict[str, _Anchor]:
    """Rows of one anchors table as `model`, keyed by `key` (a later row wins)."""
    path = resolve_root(data_dir) / file
    out: dict[str, _Anchor] = {}
    for line, rec in _read_table(path):
        anchor = model.model_validate(_anchor_fields(path, line, rec, model))
        out[key(anchor)] = anchor
    return out


def load_deepse_anchors(data_dir: Path | str) -> dict[str, DeepSEAnchor]:
    return _load_anchors(data_dir, DEEPSE_ANCHORS, DeepSEAnchor, lambda a: a.project)


def load_tawosi_anchors(data_dir: Path | str) -> dict[str, TawosiAnchor]:
    return _load_anchors(data_dir, TAWOSI_ANCHORS, TawosiAnchor, lambda a: a.key)
