"""Recurring themes across comments and task texts: keyword groups, named, counted, with quotes.

A fixed catalogue of common sprint problems/successes (each a set of word stems) gives stable
names that can be compared across sprints ("recurring" = also found in an earlier sprint); texts
matching no catalogue theme are left out rather than forced into one.
"""

from __future__ import annotations

import re
from collections import defaultdict

from pydantic import BaseModel, Field

from tools.sentiment.model import LexiconSentiment

# name → (kind, stems). kind "problem" themes feed proposed actions when they recur or dominate.
CATALOGUE: dict[str, tuple[str, tuple[str, ...]]] = {
    "Flaky or failing tests": (
        "problem",
        (
            "flaky",
            "flak",
            "test fail",
            "tests fail",
            "failing test",
            "red build",
            "ci fail",
            "broken build",
            "build broke",
            "intermittent",
        ),
    ),
    "Environments and CI/CD": (
        "problem",
        (
            "staging",
            "environment",
            "env ",
            "pipeline",
            "deploy",
            "ci ",
            "jenkins",
            "build server",
            "infra",
            "outage",
            "downtime",
        ),
    ),
    "Blocked by dependencies or other teams": (
        "problem",
        (
            "blocked by",
            "blocked on",
            "waiting on",
            "waiting for",
            "depends on",
            "dependency",
            "other team",
            "blocker",
        ),
    ),
    "Unclear requirements": (
        "problem",
        (
            "unclear",
            "requirement",
            "acceptance criteria",
            "spec ",
            "vague",
            "ambiguous",
            "clarif",
            "definition of ready",
            "design not ready",
        ),
    ),
    "Estimates and scope creep": (
        "problem",
        (
            "underestimat",
            "bigger than",
            "took longer",
            "scope",
            "estimate",
            "re-estimat",
            "more work than",
            "split",
        ),
    ),
    "Code review delays": ("problem", ("review", "pr ", "pull request", "waiting for approval", "merge")),
    "Bugs and regressions": ("problem", ("regression", "crash", "bug", "broke", "hotfix", "incident")),
    "Context switching and interruptions": (
        "problem",
        ("interrupt", "context switch", "on-call", "support ticket", "firefight", "urgent request"),
    ),
    "Collaboration and help": (
        "positive",
        ("thanks", "thank", "pairing", "paired", "helped", "great work", "nice work", "kudos", "team effort"),
    ),
    "Smooth delivery": (
        "positive",
        (
            "shipped",
            "released",
            "went smooth",
            "smoothly",
            "ahead of schedule",
            "works great",
            "merged",
            "done early",
        ),
    ),
}

QUOTES_PER_THEME = 2
QUOTE_CHARS = 140


class TextRef(BaseModel):
    text: str
    source: str  # "comment" | "task"
    task_gid: str | None = None
    task_name: str | None = None


class Theme(BaseModel):
    name: str
    kind: str
    count: int
    tasks: int
    sentiment: float  # mean lexicon score of the matching texts
    quotes: list[str] = Field(default_factory=list)
    recurring: bool = False
    seen_in: list[str] = Field(default_factory=list)  # earlier sprints with the same theme


def _norm(text: str) -> str:
    return " " + re.sub(r"\s+", " ", text.lower()) + " "


def _quote(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= QUOTE_CHARS else line[: QUOTE_CHARS - 1].rstrip() + "…"


def find_themes(texts: list[TextRef], min_count: int = 2) -> list[Theme]:
    lex = LexiconSentiment()
    hits: dict[str, list[TextRef]] = defaultdict(list)
    for ref in texts:
        low = _norm(ref.text)
        for name, (_, stems) in CATALOGUE.items():
            if any(stem in low for stem in stems):
                hits[name].append(ref)
    themes = []
    for name, refs in hits.items():
        if len(refs) < min_count:
            continue
        scores = [lex.analyse(r.text).score for r in refs]
        kind = CATALOGUE[name][0]
        # Quotes: comments first (people's words), the most emotional first for problems.
        ranked = sorted(
            refs,
            key=lambda r: (
                r.source != "comment",
                (lex.analyse(r.text).score if kind == "problem" else -lex.analyse(r.text).score),
                r.text,
            ),
        )
        quotes: list[str] = []
        for r in ranked:
            q = _quote(r.text)
            if q not in quotes:
                quotes.append(q)
            if len(quotes) == QUOTES_PER_THEME:
                break
        themes.append(
            Theme(
                name=name,
                kind=kind,
                count=len(refs),
                tasks=len({r.task_gid for r in refs if r.task_gid}),
                sentiment=round(sum(scores) / len(scores), 2),
                quotes=quotes,
            )
        )
    themes.sort(key=lambda t: (-t.count, t.name))
    return themes


def mark_recurring(current: list[Theme], previous: dict[str, list[str]]) -> list[Theme]:
    """`previous`: earlier sprint name → its theme names. A theme seen before is recurring."""
    out = []
    for t in current:
        seen = [sprint for sprint, names in previous.items() if t.name in names]
        out.append(t.model_copy(update={"recurring": bool(seen), "seen_in": seen}))
    return out
