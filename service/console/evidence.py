"""A proposal's evidence (arbitrary JSON from a specialist) as a few plain tables.

A list of objects becomes a table (columns: the keys, in first-seen order); an object becomes
key/value rows; anything nested is shown compactly. Sizes are capped so a huge evidence blob
cannot make the page unusable. All values are escaped by the template.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.console.render import compact

MAX_ROWS = 50
MAX_COLUMNS = 8


@dataclass(frozen=True)
class EvidenceTable:
    title: str
    columns: list[str]
    rows: list[list[str]]
    truncated: int  # rows left out


def _of_objects(title: str, items: list[dict[str, Any]]) -> EvidenceTable:
    columns: list[str] = []
    for item in items:
        columns += [k for k in item if k not in columns]
    columns = columns[:MAX_COLUMNS]
    rows = [[compact(item.get(c), 120) for c in columns] for item in items[:MAX_ROWS]]
    return EvidenceTable(title, columns, rows, max(0, len(items) - MAX_ROWS))


def evidence_tables(evidence: dict[str, Any]) -> list[EvidenceTable]:
    tables: list[EvidenceTable] = []
    scalars: list[list[str]] = []
    for key, value in evidence.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.append(_of_objects(key, value))
        elif isinstance(value, dict) and value:
            rows = [[str(k), compact(v, 200)] for k, v in list(value.items())[:MAX_ROWS]]
            tables.append(EvidenceTable(key, ["key", "value"], rows, max(0, len(value) - MAX_ROWS)))
        else:
            scalars.append([key, compact(value, 200)])
    if scalars:
        tables.insert(0, EvidenceTable("facts", ["key", "value"], scalars, 0))
    return tables
