"""Shared pieces of every action kind's params: the strict base model, gid-or-ref values, refs.

Each kind's own params model lives with its spec in `graphs/kinds/`. The policy validates every
action (including human edits) against that model; unknown keys, wrong types or a missing or
forbidden target make the action `denied`, never "best effort". The executor re-parses params
with the same model, so what was validated is what gets written.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from agents.proposal import REF_PREFIX
from tools.errors import UserError

GidOrRef = str


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def gid_or_ref(value: str) -> str:
    if value.startswith(REF_PREFIX):
        if len(value) <= len(REF_PREFIX):
            raise ValueError("empty ref name")
        return value
    if not value.isdigit():
        raise ValueError(f"{value!r} is neither an Asana gid nor a ref:<name>")
    return value


class InvalidAction(UserError, ValueError):
    pass


def is_ref(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(REF_PREFIX)


def ref_name(value: str) -> str:
    return value[len(REF_PREFIX) :]


def resolve_refs(value: Any, gids: dict[str, str]) -> Any:
    """Replace every `ref:<name>` with the gid an earlier action created; KeyError if missing."""
    if is_ref(value):
        return gids[ref_name(value)]
    if isinstance(value, dict):
        return {k: resolve_refs(v, gids) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v, gids) for v in value]
    return value
