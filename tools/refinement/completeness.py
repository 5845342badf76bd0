"""What an intake request still lacks before it can be refined, and the comment that asks for it.

A form can make questions required, but it cannot tell whether the answers are enough. Three checks,
all on structure, never on what the text asks for:

* **acceptance criteria**: none found by the criteria parser (tools/refinement/criteria.py);
* **description**: fewer than `MIN_DESCRIPTION_WORDS` (12) words once the criteria are taken out:
  about a sentence saying what is wanted and one saying why. A one-line answer such as "Customers
  keep asking for it." (5) says neither. (Groomed items can be terser — the generated backlog's
  median is 24 words and a quarter have 6 or fewer beside their criteria — but a request from
  outside the team has no shared context to lean on.)
* **required information**: a field the prioritisation needs (Business Value, Priority) is on the
  request's project but left empty (a form question that was optional, or skipped).

Each gap has a stable `key` (the word count in its wording is not part of it), and the comment puts
each gap's question on a line of its own, so `asked_keys` can read back from our comment what was
asked: whether a later run would ask the same again is then known from Asana itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel

from tools.refinement.criteria import CriteriaResult

MIN_DESCRIPTION_WORDS = 12
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")

GapCode = Literal["acceptance_criteria", "description", "field"]


DESCRIPTION_ASK = "What should change, for whom, and why is it needed now?"
CRITERIA_ASK = "How will we know it is done? Add an “Acceptance criteria:” list, one checkable item per line."
_FIELD_ASK = "It is empty; please fill in {name}."
_FIELD_ASK_RE = re.compile(r"It is empty; please fill in (.+?)\.\s*$")
ASK_HEADING = "More information needed"


class Gap(BaseModel):
    code: GapCode
    what: str  # the missing thing, as the comment names it
    ask: str  # the question put to the requester
    field: str | None = None  # for a `field` gap: the field's name

    @property
    def key(self) -> str:
        """What is asked for, independent of the wording (the word count changes as people type)."""
        return f"field:{self.field}" if self.field else self.code


def gap_keys(gaps: Iterable[Gap]) -> frozenset[str]:
    return frozenset(g.key for g in gaps)


def description_words(notes: str | None, criteria: CriteriaResult) -> int:
    """Words of the description that are not acceptance criteria (nor their heading)."""
    text = notes or ""
    for item in criteria.items:
        text = text.replace(item.text, " ")
    text = re.sub(r"(?i)acceptance[\s_-]+criteria", " ", text)
    return len(_WORD.findall(text))


def request_gaps(notes: str | None, criteria: CriteriaResult, empty_fields: Iterable[str] = ()) -> list[Gap]:
    """What the request lacks, in the order the comment asks for it."""
    gaps: list[Gap] = []
    words = description_words(notes, criteria)
    if words < MIN_DESCRIPTION_WORDS:
        gaps.append(
            Gap(
                code="description",
                what=f"a description ({words} word{'s' if words != 1 else ''}; at least "
                f"{MIN_DESCRIPTION_WORDS} needed)",
                ask=DESCRIPTION_ASK,
            )
        )
    if not criteria.present:
        gaps.append(
            Gap(
                code="acceptance_criteria",
                what="acceptance criteria",
                ask=CRITERIA_ASK,
            )
        )
    for name in empty_fields:
        gaps.append(Gap(code="field", what=f"the {name} field", ask=_FIELD_ASK.format(name=name), field=name))
    return gaps


def ask_comment(gaps: list[Gap], tag: str, *, follow_up: bool = False) -> str:
    """The comment on the request that asks for exactly what is missing (`follow_up`: after an
    edit that left something missing, naming only what still is)."""
    intro = (
        "Thanks for the update. To be estimated and planned, the request still needs:"
        if follow_up
        else "Thanks for the request. Before it can be estimated and planned, please add:"
    )
    lines = [f"{tag} {ASK_HEADING}", "", intro, ""]
    lines += [f"- **{g.what[0].upper()}{g.what[1:]}** — {g.ask}" for g in gaps]
    lines += ["", "Add them to the task's description or fields, so it can be estimated and planned."]
    return "\n".join(lines)


def is_ask(text: str, tag: str) -> bool:
    return text.lstrip().startswith(f"{tag} {ASK_HEADING}")


def asked_keys(text: str) -> frozenset[str]:
    """The gap keys an ask comment (`ask_comment`'s text, as Asana returns it) asked for, read
    from the questions, which are fixed per gap (rich-text rendering may change the rest)."""
    keys: set[str] = set()
    for line in text.splitlines():
        if DESCRIPTION_ASK in line:
            keys.add("description")
        if CRITERIA_ASK in line:
            keys.add("acceptance_criteria")
        if m := _FIELD_ASK_RE.search(line):
            keys.add(f"field:{m.group(1)}")
    return frozenset(keys)
