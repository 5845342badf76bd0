"""Prompt templates: `prompts/<id>.md` files with a small header and `{named}` placeholders.

File layout::

    ---
    id: planner_summary
    version: 1
    untrusted: selected_tasks, left_out
    ---
    template text with {placeholders}

Variables named in `untrusted` hold text that came from Asana (task names, notes, comments); they
are rendered inside `<asana_data>` fences so the model treats them as data, never as
instructions. Rendering is byte-stable: no clock, sorted JSON for structured values.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from agents.proposal import PromptRef
from tools.errors import SprintpilotError

PROMPTS_DIR = Path(__file__).resolve().parent
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
FENCE_TAG = "asana_data"


class PromptError(SprintpilotError, ValueError):
    pass


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1, default=str)


def fence(name: str, value: Any) -> str:
    """Wrap untrusted text so it cannot close the fence or pose as instructions."""
    body = _as_text(value)
    # A forged closing tag inside the data would end the fence early: neutralise it.
    body = re.sub(rf"</?\s*{FENCE_TAG}", lambda m: m.group(0).replace("<", "&lt;"), body, flags=re.IGNORECASE)
    return f'<{FENCE_TAG} name="{name}">\n{body}\n</{FENCE_TAG}>'


@dataclass(frozen=True)
class Prompt:
    id: str
    version: str
    sha256: str
    template: str
    untrusted: frozenset[str] = frozenset()

    @property
    def variables(self) -> list[str]:
        names = [f for _, f, _, _ in string.Formatter().parse(self.template) if f]
        return list(dict.fromkeys(names))

    def ref(self) -> PromptRef:
        return PromptRef(id=self.id, version=self.version, sha256=self.sha256)

    def render(self, **variables: Any) -> str:
        missing = [v for v in self.variables if v not in variables]
        if missing:
            raise PromptError(f"prompt {self.id!r} is missing variables: {', '.join(missing)}")
        values = {
            name: fence(name, variables[name]) if name in self.untrusted else _as_text(variables[name])
            for name in self.variables
        }
        return self.template.format(**values)


def parse_prompt(text: str, *, expected_id: str | None = None) -> Prompt:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise PromptError("a prompt file starts with a '---' header")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise PromptError("the prompt header is not closed with '---'") from None
    header: dict[str, str] = {}
    for line in lines[1:end]:
        if line.strip():
            key, _, value = line.partition(":")
            header[key.strip()] = value.strip()
    prompt_id, version = header.get("id", ""), header.get("version", "")
    if not _ID.match(prompt_id) or not version:
        raise PromptError("the prompt header needs an id (snake_case) and a version")
    if expected_id is not None and prompt_id != expected_id:
        raise PromptError(f"prompt file for {expected_id!r} declares id {prompt_id!r}")
    untrusted = frozenset(n.strip() for n in header.get("untrusted", "").split(",") if n.strip())
    template = "".join(lines[end + 1 :]).strip("\n") + "\n"
    prompt = Prompt(
        id=prompt_id,
        version=version,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        template=template,
        untrusted=untrusted,
    )
    unknown = untrusted - set(prompt.variables)
    if unknown:
        raise PromptError(f"untrusted names {sorted(unknown)} are not placeholders of {prompt_id!r}")
    return prompt


@lru_cache(maxsize=64)
def _load(path: str, prompt_id: str) -> Prompt:
    return parse_prompt(Path(path).read_text(encoding="utf-8"), expected_id=prompt_id)


def load_prompt(prompt_id: str, directory: Path | None = None) -> Prompt:
    if not _ID.match(prompt_id):
        raise PromptError(f"invalid prompt id {prompt_id!r}")
    path = (directory or PROMPTS_DIR) / f"{prompt_id}.md"
    if not path.is_file():
        raise PromptError(f"no prompt file {path}")
    return _load(str(path), prompt_id)
