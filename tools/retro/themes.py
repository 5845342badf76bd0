"""Recurring themes across comments and task texts: keyword groups, named, counted, with quotes.

A fixed catalogue of common sprint problems/successes (each a set of word stems) gives stable
names that can be compared across sprints ("recurring" = also found in an earlier sprint); texts
matching no catalogue theme are left out rather than forced into one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping

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
# Per theme, one pattern that finds any of its stems: a single C-level search per text and theme
# instead of a Python loop over the stems (same result: some stem occurs in the text).
_STEMS = {
    name: re.compile("|".join(re.escape(stem) for stem in stems)) for name, (_, stems) in CATALOGUE.items()
}


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
    sentiment: float  # mean sentiment score of the matching texts (the engine the mood names)
    quotes: list[str] = Field(default_factory=list)
    recurring: bool = False
    seen_in: list[str] = Field(default_factory=list)  # earlier sprints with the same theme


_SPACES = re.compile(r"\s+")


def _norm(text: str) -> str:
    return " " + _SPACES.sub(" ", text.lower()) + " "


def _quote(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= QUOTE_CHARS else line[: QUOTE_CHARS - 1].rstrip() + "…"


def theme_hits(texts: list[TextRef]) -> dict[str, list[TextRef]]:
    """Theme name → the texts mentioning one of its stems, in text order (themes without any left
    out). Computed once per retro: the themes and their action items' owners both read it."""
    hits: dict[str, list[TextRef]] = defaultdict(list)
    for ref in texts:
        low = _norm(ref.text)
        for name, pattern in _STEMS.items():
            if pattern.search(low):
                hits[name].append(ref)
    return hits


def theme_names(texts: list[TextRef], min_count: int = 2) -> list[str]:
    """The names of `find_themes(texts, min_count)`, in its order, without scoring sentiment (an
    earlier sprint's themes are compared by name only)."""
    counts = [(name, len(refs)) for name, refs in theme_hits(texts).items() if len(refs) >= min_count]
    return [name for name, _ in sorted(counts, key=lambda nc: (-nc[1], nc[0]))]


def find_themes(
    texts: list[TextRef],
    min_count: int = 2,
    *,
    model: LexiconSentiment | None = None,
    hits: Mapping[str, list[TextRef]] | None = None,
) -> list[Theme]:
    """`model`: the sentiment engine (a `tools.retro.scoring.CachedSentiment` shares its scores
    with the mood's; each distinct text is scored once here either way); `hits`: `theme_hits(texts)`
    when the caller has it."""
    lex = model or LexiconSentiment()
    scores: dict[str, float] = {}

    def score(text: str) -> float:
        if text not in scores:
            scores[text] = lex.analyse(text).score
        return scores[text]

    themes = []
    for name, refs in (theme_hits(texts) if hits is None else hits).items():
        if len(refs) < min_count:
            continue
        values = [score(r.text) for r in refs]
        kind = CATALOGUE[name][0]
        # Quotes: comments first (people's words), the most emotional first for problems.
        ranked = sorted(
            refs,
            key=lambda r: (
                r.source != "comment",
                (score(r.text) if kind == "problem" else -score(r.text)),
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
                sentiment=round(sum(values) / len(values), 2),
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
