"""The offline writing engine: deterministic, template-based text for each prompt id (no model,
no network).

Each writer fills the same schema the model would, from the same variables, with classical text
methods (ranking, keyword frequency, templated sentences). It is the default engine and the
fallback when a model fails, so every agent works with no key configured. This module holds the
engine only (the writer table, `register`, `write_offline` and shared text helpers); the writers
themselves live in `tools/llm/writers/<agent>.py` and are discovered on first use.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

OfflineWriter = Callable[[dict[str, Any]], BaseModel]
_WRITERS: dict[str, OfflineWriter] = {}

_STOPWORDS = frozenset(
    {
        "a", "an", "and", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it", "of", "on", "or",
        "the", "to", "with", "via", "new", "add", "fix", "update", "use", "make", "page", "task", "tasks",
        "bug", "support", "improve",
    }
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-]{2,}")


def register(prompt_id: str) -> Callable[[OfflineWriter], OfflineWriter]:
    def deco(fn: OfflineWriter) -> OfflineWriter:
        if prompt_id in _WRITERS:
            raise ValueError(f"an offline writer for {prompt_id!r} is already registered")
        _WRITERS[prompt_id] = fn
        return fn

    return deco


def _discover() -> None:
    from tools.llm.writers import load_writers

    load_writers()


def has_writer(prompt_id: str) -> bool:
    if prompt_id not in _WRITERS:
        _discover()
    return prompt_id in _WRITERS


def write_offline(prompt_id: str, variables: dict[str, Any], schema: type[BaseModel]) -> BaseModel:
    if prompt_id not in _WRITERS:
        _discover()
    if prompt_id not in _WRITERS:
        raise LookupError(f"no offline writer for prompt {prompt_id!r}")
    produced = _WRITERS[prompt_id](variables)
    return schema.model_validate(produced.model_dump())


# --- helpers ----------------------------------------------------------------------------------


def _one_line(text: Any) -> str:
    return " ".join(str(text or "").split())


def clean(text: Any, limit: int = 80) -> str:
    """One line of task text, shortened: safe to drop into a sentence."""
    line = _one_line(text)
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def shorten(text: Any, limit: int = 80) -> str:
    """`clean` for a clause in parentheses (a left-out task's reason): the cut falls between words
    where it can and never leaves a parenthesis open (it read "(120000000000023…)")."""
    line = _one_line(text)
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    while cut.count("(") > cut.count(")"):
        cut = cut[: cut.rfind("(")]
    return cut.rstrip(" ,;:") + "…"


def number(value: Any) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(x)) if x.is_integer() else f"{x:.1f}"


def join_names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def themes(names: list[str], top: int = 2) -> list[str]:
    """Words shared by at least two task names, most frequent first (ties alphabetical)."""
    counts: Counter[str] = Counter()
    for name in names:
        counts.update({w.lower() for w in _WORD.findall(name)} - _STOPWORDS)
    shared = [(w, c) for w, c in counts.items() if c >= 2]
    shared.sort(key=lambda wc: (-wc[1], wc[0]))
    return [w for w, _ in shared[:top]]


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
