"""Text the app database may store: no NUL or other C0 control characters (tab, newline and
carriage return excepted) and no lone surrogates.

Asana text (task names, notes, comments) reaches the proposals, runs, audit and ledger tables.
Postgres refuses NUL in text ("A string literal cannot contain NUL") and `\\u0000` in JSONB, and a
lone surrogate cannot be encoded as UTF-8; other control characters (an ESC sequence) would reach
terminals when the rows are shown. Each such character is stored as U+FFFD instead, on every
backend, so a row reads the same on SQLite and Postgres.

`make_engine` applies `clean_value` to every statement parameter and `json_dumps` to every JSON
column; the audit log cleans its record before hashing it, so the stored row re-verifies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

REPLACEMENT = "\ufffd"
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` with each unsafe character replaced by U+FFFD (the same object when there is none)."""
    return _UNSAFE.sub(REPLACEMENT, text) if _UNSAFE.search(text) else text


def clean_value(value: Any) -> Any:
    """`value` with every string in it (dict keys included) cleaned; other values unchanged."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        cleaned = [clean_value(v) for v in value]
        return tuple(cleaned) if isinstance(value, tuple) else cleaned
    return value


def json_dumps(value: Any) -> str:
    """The JSON columns' serializer: `json.dumps` of the cleaned value."""
    return json.dumps(clean_value(value))


def clean_parameters(parameters: Any) -> Any:
    """A statement's parameters (a mapping or a tuple, or a list of them for executemany) with
    their strings cleaned."""
    if isinstance(parameters, Mapping):
        return {k: clean_value(v) for k, v in parameters.items()}
    if isinstance(parameters, tuple):
        return tuple(clean_value(v) for v in parameters)
    if isinstance(parameters, list):
        return [clean_parameters(p) if isinstance(p, Mapping | tuple) else clean_value(p) for p in parameters]
    return parameters
