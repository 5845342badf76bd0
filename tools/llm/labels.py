"""Engine labels as people in Asana read them: who wrote an item, never why a model failed.

`LanguageEngine.write` returns a label per written item: the model's name, "offline", or
"offline (fallback: <reason>)". The reason is for the run's record (CLI, audit, logs); it can hold
a model server's error message and must not reach Asana. Everything posted there says only which
engine wrote it, through `written_by` / `footer`:

    written_by("openai-compatible:gpt-4o-mini")           -> "gpt-4o-mini"
    written_by("offline")                                 -> "offline templates"
    written_by("offline (fallback: model error: HTTP 400…)") -> "offline templates (model fallback)"
"""

from __future__ import annotations

from collections.abc import Iterable

from tools.llm.factory import OFFLINE

OFFLINE_TEMPLATES = "offline templates"
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:+ ")
_NAME_LIMIT = 60


def is_offline(label: str) -> bool:
    return label == OFFLINE or label.startswith(f"{OFFLINE} ")


def written_by(label: str) -> str:
    """The engine of one item in a few fixed words: a model's name or the offline templates."""
    text = (label or "").strip()
    if not text or is_offline(text):
        return OFFLINE_TEMPLATES if text in ("", OFFLINE) else f"{OFFLINE_TEMPLATES} (model fallback)"
    name = text.split(":", 1)[1] if ":" in text else text  # "openai:gpt-4o" → "gpt-4o"
    name = "".join(c for c in name if c in _SAFE).strip()[:_NAME_LIMIT]
    return name or "a model"


def written_by_all(labels: Iterable[str]) -> str:
    """Several items' engines, each named once in order: "gpt-4o and offline templates"."""
    names = list(dict.fromkeys(written_by(label) for label in labels)) or [OFFLINE_TEMPLATES]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def footer(label: str) -> str:
    """The last line of a posted comment or status update (markdown)."""
    return f"_Written by {written_by(label)}._"


def with_footer(text: str, label: str) -> str:
    return f"{text.rstrip()}\n\n{footer(label)}"


def combined(labels: Iterable[str]) -> str:
    """One label for a proposal whose items were written by different engines (its `model`)."""
    distinct = list(dict.fromkeys(labels))
    if not distinct:
        return OFFLINE
    return distinct[0] if len(distinct) == 1 else "; ".join(distinct)
