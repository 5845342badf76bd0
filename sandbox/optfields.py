"""Parsing of Asana's `opt_fields` (comma list of dotted paths, `this.` prefix, `(a|b)` groups)."""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request

FieldTree = dict[str, "FieldTree"]


# A client sends the same few opt_fields strings over and over: their trees are parsed once.
# Trees are read-only once parsed (the renderer and routes only read them).
_PARSED: dict[str, FieldTree | None] = {}
_PARSED_MAX = 256


def parse_opt_fields(raw: str | list[str] | None) -> FieldTree | None:
    """`"name,assignee.name,memberships.section.name"` -> nested dict; None when absent/empty."""
    if raw is None:
        return None
    if isinstance(raw, str):
        if raw in _PARSED:
            return _PARSED[raw]
        tree = _parse(raw)  # raises (400) before anything is kept
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[raw] = tree
        return tree
    return _parse(raw)


def _parse(raw: str | list[str]) -> FieldTree | None:
    items = raw if isinstance(raw, list) else raw.split(",")
    tree: FieldTree = {}
    for item in items:
        path = item.strip()
        if not path:
            continue
        if path.startswith("this."):
            path = path[5:]
        for expanded in _expand_groups(path):
            node = tree
            for part in expanded.split("."):
                if not part or not _valid_name(part):
                    raise bad_request(f"opt_fields: Invalid field path {item!r}")
                node = node.setdefault(part, {})
    return tree or None


def _valid_name(part: str) -> bool:
    return all(c.isalnum() or c == "_" for c in part)


def _expand_groups(path: str) -> list[str]:
    """`(followers|assignee).email` -> ["followers.email", "assignee.email"] (one group level)."""
    start = path.find("(")
    if start < 0:
        return [path]
    end = path.find(")", start)
    if end < 0:
        raise bad_request(f"opt_fields: Unbalanced parenthesis in {path!r}")
    head, tail = path[:start], path[end + 1 :]
    out: list[str] = []
    for choice in path[start + 1 : end].split("|"):
        out.extend(_expand_groups(f"{head}{choice.strip()}{tail}"))
    return out


def options_fields(body: dict[str, Any] | None) -> list[str] | None:
    """Fields given in a JSON body's `options.fields` (Asana's in-body form of opt_fields)."""
    if not body:
        return None
    options = body.get("options")
    if isinstance(options, dict) and isinstance(options.get("fields"), list):
        return [str(f) for f in options["fields"]]
    return None
