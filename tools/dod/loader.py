"""Where a DoD comes from, in precedence order (first found wins):

1. an explicit file: `sprintpilot review --dod FILE` (or `SPRINTPILOT_DOD_FILE`), or the config
   the caller passes in the run's args;
2. a per-project YAML in the DoD directory (`SPRINTPILOT_DOD_DIR`): `<project gid>.yaml`, then
   `<project name as a slug>.yaml` (e.g. `product-backlog.yaml`), `.yml` accepted too;
3. a task named exactly "Definition of Done" in the project: its notes hold either the YAML
   document or a plain bullet list, which `parse_bullets` maps onto checks;
4. the built-in default (`default_config()`: subtasks complete + acceptance criteria evidenced).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tools.dod.config import (
    AcceptanceCriteria,
    Attachments,
    DodConfig,
    Links,
    RequiredFields,
    SubtasksComplete,
    default_config,
)
from tools.errors import UserError

DOD_TASK_NAME = "Definition of Done"
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,2}[.)]|\[[ xX]\])\s*(?:\[[ xX]\]\s*)?(.+?)\s*$")
_EXT = re.compile(r"\*?\.?\b(png|jpe?g|gif|svg|pdf|csv|txt|md|zip|mp4|mov|docx?|xlsx?|json|html?)\b", re.I)
_NUMBER = re.compile(r"\b(\d+)\b")
_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
MAX_DOD_BYTES = 1_000_000
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 50_000
PULL_REQUEST_PATTERNS = ["*/pull/*", "*/merge_requests/*", "*/pull-requests/*"]


class DodConfigError(UserError, ValueError):
    """A DoD source exists but does not describe a valid DoD (message names the source)."""


@dataclass(frozen=True)
class LoadedDod:
    config: DodConfig
    source: str
    # Bullet lines of a DoD task that map onto no check (shown to the user, never silently lost).
    ignored: list[str] = field(default_factory=list)


def config_from_data(data: Any, source: str) -> DodConfig:
    """A parsed YAML/JSON document → DodConfig; a bare list is taken as the `checks` list."""
    if isinstance(data, list):
        data = {"checks": data}
    if not isinstance(data, dict):
        raise DodConfigError(f"{source}: expected a mapping with a 'checks' list")
    try:
        return DodConfig.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise DodConfigError(f"{source}: {where}: {first['msg']}") from None


def load_yaml(text: str, source: str) -> Any:
    """`yaml.safe_load` within bounds: at most `MAX_DOD_BYTES`, nesting at most `MAX_YAML_DEPTH`
    levels, at most `MAX_YAML_NODES` nodes and no aliases (a DoD needs none, and they let a small
    document expand without bound). Checked on the parser's events, which nest without recursion,
    before the recursive composer runs. Raises DodConfigError naming `source`; a document that is
    not YAML at all raises yaml.YAMLError as before."""
    if len(text) > MAX_DOD_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_DOD_BYTES:
        raise DodConfigError(f"{source}: larger than {MAX_DOD_BYTES // 1_000_000} MB")
    depth = nodes = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise DodConfigError(f"{source}: YAML aliases (*name) are not supported in a DoD")
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_YAML_NODES:
                raise DodConfigError(f"{source}: more than {MAX_YAML_NODES} YAML nodes")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise DodConfigError(f"{source}: YAML nested deeper than {MAX_YAML_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    try:
        return yaml.safe_load(text)
    except RecursionError:  # not expected after the checks above; never a traceback
        raise DodConfigError(f"{source}: YAML nested too deeply") from None


def read_bounded(path: Path, limit: int = MAX_DOD_BYTES) -> str:
    """A user-supplied file's text, reading at most `limit` + 1 bytes (`/dev/zero` ends here)."""
    try:
        with path.open("rb") as f:
            raw = f.read(limit + 1)
    except OSError as err:
        raise DodConfigError(f"cannot read DoD file {path}: {err.strerror or err}") from None
    if len(raw) > limit:
        raise DodConfigError(f"DoD file {path} is larger than {limit // 1_000_000} MB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DodConfigError(f"DoD file {path} is not UTF-8 text") from None


def load_dod_file(path: str | Path) -> LoadedDod:
    p = Path(path)
    text = read_bounded(p)
    try:
        data = load_yaml(text, str(p))
    except yaml.YAMLError as err:
        raise DodConfigError(f"{p}: not valid YAML ({err.__class__.__name__})") from None
    return LoadedDod(config_from_data(data, str(p)), source=f"file:{p}")


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")


def project_file(directory: str | Path, project_gid: str, project_name: str | None) -> Path | None:
    """The per-project DoD file in `directory`, by gid first, then by the project's name slug."""
    base = Path(directory)
    stems = [project_gid] + ([slug(project_name)] if project_name and slug(project_name) else [])
    for stem in stems:
        for ext in (".yaml", ".yml"):
            candidate = base / f"{stem}{ext}"
            if candidate.is_file():
                return candidate
    return None


def _count(line: str, default: int = 1) -> int:
    if m := _NUMBER.search(line):
        return max(1, int(m.group(1)))
    for word, n in _WORD_NUMBERS.items():
        if re.search(rf"\b{word}\b", line, re.I):
            return n
    return default


def _bullet_check(line: str) -> Any | None:
    low = line.casefold()
    if "acceptance" in low or re.search(r"\bac\b", low):
        return AcceptanceCriteria()
    if "subtask" in low or "sub-task" in low:
        return SubtasksComplete()
    if "field" in low and ":" in line:
        names = re.split(r",|\band\b|;", line.split(":", 1)[1])
        cleaned = [n.strip().strip(".\"'“”") for n in names if n.strip().strip(".\"'“”")]
        return RequiredFields(fields=cleaned) if cleaned else None
    if "attach" in low or "screenshot" in low:
        patterns = sorted({f"*.{m.group(1).lower()}" for m in _EXT.finditer(line)})
        return Attachments(min=_count(line), patterns=patterns)
    if "link" in low or "pull request" in low or re.search(r"\bprs?\b", low):
        prs = "pull request" in low or re.search(r"\bprs?\b", low)
        return Links(min=_count(line), patterns=list(PULL_REQUEST_PATTERNS) if prs else [])
    return None


def parse_bullets(text: str, source: str) -> LoadedDod:
    """A DoD written as a checklist ("- All subtasks complete", "- Screenshot attached (png)", ...)."""
    checks: list[Any] = []
    ignored: list[str] = []
    for raw in text.splitlines():
        m = _BULLET.match(raw)
        if not m:
            continue
        check = _bullet_check(m.group(1))
        if check is None:
            ignored.append(m.group(1))
        elif check.id == "required_fields" and any(c.id == "required_fields" for c in checks):
            prev = next(c for c in checks if c.id == "required_fields")
            checks[checks.index(prev)] = RequiredFields(fields=[*prev.fields, *check.fields])
        elif check.id not in {c.id for c in checks}:
            checks.append(check)
    if not checks:
        raise DodConfigError(f"{source}: no recognisable DoD item (YAML or a bullet list)")
    return LoadedDod(DodConfig(checks=checks), source=source, ignored=ignored)


def parse_dod_text(text: str, source: str) -> LoadedDod:
    """Notes of a "Definition of Done" task: a YAML document with `checks`, else a bullet list."""
    try:
        data = load_yaml(text, source)
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict) and "checks" in data:
        return LoadedDod(config_from_data(data, source), source=source)
    return parse_bullets(text, source)


def resolve_dod(
    *,
    explicit: LoadedDod | None = None,
    project_yaml: Path | None = None,
    dod_task_notes: str | None = None,
    dod_task_gid: str | None = None,
) -> LoadedDod:
    """Apply the precedence documented at the top of this module."""
    if explicit is not None:
        return explicit
    if project_yaml is not None:
        loaded = load_dod_file(project_yaml)
        return LoadedDod(loaded.config, source=f"project-file:{project_yaml}")
    if dod_task_notes is not None and dod_task_notes.strip():
        return parse_dod_text(dod_task_notes, f"asana-task:{dod_task_gid or DOD_TASK_NAME}")
    return LoadedDod(default_config(), source="default")
