"""Acceptance-criteria extraction from task notes.

Recognised, after an "Acceptance criteria" heading (``Acceptance criteria:``, ``## Acceptance
Criteria``, ``**AC**:``, ``Definition of done`` is *not* one): bullet lines (``-``, ``*``, ``+``,
``•``, ``1.``, ``1)``), checkboxes (``[ ]``, ``[x]``, ``- [ ]``) and Given/When/Then/And lines.
Text on the heading line itself counts as one criterion; a heading after a sentence
("…needs work. Acceptance criteria:") counts as if it started a line. The block ends at the next heading or
at a blank line followed by ordinary prose. Given/When/Then scenarios anywhere in the notes count
too (they are criteria by construction), so a Gherkin-only description is not flagged.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

Kind = Literal["bullet", "checkbox", "gherkin", "inline"]

_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:\*\*|__)?\s*(?:acceptance[\s_-]+criteria|a\.?c\.?)\s*(?:\*\*|__)?\s*[:\-–]?\s*(?:\*\*|__)?\s*(.*)$",
    re.IGNORECASE,
)
_OTHER_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s+\S|(?:\*\*|__)[^*_]+(?:\*\*|__)\s*:?\s*$|[A-Z][\w /-]{1,40}:\s*$)"
)
_CHECKBOX = re.compile(r"^\s*(?:[-*+•]\s*)?\[( |x|X)\]\s*(.+)$")
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,2}[.)])\s+(.+)$")
_GHERKIN = re.compile(r"^\s*(?:[-*+•]\s*)?(given|when|then|and|but)\b\s*(.+)$", re.IGNORECASE)
_MID_HEADING = re.compile(r"(?<=[.!?])[ \t]+(?=acceptance[\s_-]+criteria\s*:)", re.IGNORECASE)
_SCENARIO_START = re.compile(r"^\s*(?:[-*+•]\s*)?given\b", re.IGNORECASE)


class Criterion(BaseModel):
    text: str = Field(min_length=1)
    kind: Kind
    checked: bool | None = None


class CriteriaResult(BaseModel):
    items: list[Criterion] = Field(default_factory=list)
    heading_found: bool = False

    @property
    def present(self) -> bool:
        return bool(self.items)


def _item(line: str) -> Criterion | None:
    if m := _CHECKBOX.match(line):
        return Criterion(text=m.group(2).strip(), kind="checkbox", checked=m.group(1).lower() == "x")
    if m := _GHERKIN.match(line):
        return Criterion(text=f"{m.group(1).capitalize()} {m.group(2).strip()}", kind="gherkin")
    if m := _BULLET.match(line):
        return Criterion(text=m.group(1).strip(), kind="bullet")
    return None


def _block(lines: list[str], start: int) -> list[Criterion]:
    found: list[Criterion] = []
    blank = False
    for line in lines[start:]:
        if not line.strip():
            blank = True
            continue
        if _HEADING.match(line) or (_OTHER_HEADING.match(line) and not _item(line)):
            break
        item = _item(line)
        if item is None:
            if blank or found:
                break  # prose after the list ends the block
            continue  # prose right under the heading (an intro sentence) is skipped
        found.append(item)
        blank = False
    return found


def extract_criteria(notes: str | None) -> CriteriaResult:
    text = (notes or "").replace("\r\n", "\n")
    # "…needs work. Acceptance criteria:" mid-paragraph: start the heading on its own line.
    text = _MID_HEADING.sub("\n", text)
    lines = text.split("\n")
    items: list[Criterion] = []
    heading = False
    for i, line in enumerate(lines):
        m = _HEADING.match(line)
        if not m:
            continue
        heading = True
        inline = m.group(1).strip()
        if inline and not _item(inline):
            items.append(Criterion(text=inline, kind="inline"))
        elif inline and (it := _item(inline)):
            items.append(it)
        items.extend(_block(lines, i + 1))
    if not items:
        # Gherkin scenarios without a heading.
        in_scenario = False
        for line in lines:
            if _SCENARIO_START.match(line):
                in_scenario = True
            if in_scenario and (m := _GHERKIN.match(line)):
                items.append(
                    Criterion(text=f"{m.group(1).capitalize()} {m.group(2).strip()}", kind="gherkin")
                )
            elif line.strip():
                in_scenario = False
    seen: set[str] = set()
    unique = []
    for it in items:
        if it.text.casefold() not in seen:
            seen.add(it.text.casefold())
            unique.append(it)
    return CriteriaResult(items=unique, heading_found=heading)
