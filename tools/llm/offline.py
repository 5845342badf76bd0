"""The offline writer: deterministic, template-based text for each prompt id (no model, no network).

Each writer fills the same schema the model would, from the same variables, with classical text
methods (ranking, keyword frequency, templated sentences). It is the default engine and the
fallback when a model fails, so every agent works with no key configured.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from tools.llm.schemas import PlanNarrative

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


def clean(text: Any, limit: int = 80) -> str:
    """One line of task text, shortened: safe to drop into a sentence."""
    line = " ".join(str(text or "").split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


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


# --- planner_summary --------------------------------------------------------------------------


@register("planner_summary")
def plan_narrative(v: dict[str, Any]) -> PlanNarrative:
    selected = list(v.get("selected_tasks") or [])
    left_out = list(v.get("left_out") or [])
    capacity = float(v.get("capacity_points") or 0)
    velocity = float(v.get("velocity_p50") or 0)
    points = float(v.get("selected_points") or 0)
    sprint = clean(v.get("sprint_name") or "The sprint", 60)

    ranked = sorted(
        selected,
        key=lambda t: (-float(t.get("score") or 0), -float(t.get("points") or 0), clean(t.get("name"))),
    )
    top = [clean(t.get("name"), 60) for t in ranked[:2]]
    focus = themes([clean(t.get("name")) for t in selected])
    if not selected:
        goal = f"{sprint}: no new scope fits; finish carry-over work and stabilise."
    else:
        more = len(selected) - len(top)
        goal = f"Deliver {join_names(top + ([plural(more, 'more task')] if more else []))}"
        if focus:
            goal += f", focusing on {join_names(focus)}"
        goal += f" ({number(points)} points)."

    risks = [clean(r, 160) for r in v.get("risks") or [] if clean(r)]
    used = points / capacity if capacity else 0.0
    if capacity and used > 0.9:
        risks.append(f"plan uses {used:.0%} of capacity, leaving little slack for unplanned work")
    if velocity and points > velocity * 1.1:
        risks.append(f"scope is {number(points - velocity)} points above the median velocity")
    risks = list(dict.fromkeys(risks))

    sentences = [
        f"{sprint} plans {plural(len(selected), 'task')} totalling {number(points)} story points"
        + (f" against a capacity of {number(capacity)} ({used:.0%} used)." if capacity else ".")
    ]
    if velocity:
        if points > velocity * 1.1:
            pace = "above"
        elif points < velocity * 0.9:
            pace = "below"
        else:
            pace = "in line with"
        sentences.append(
            f"The team's median velocity is {number(velocity)} points, so the plan is {pace} its recent pace."
        )
    if left_out:
        shown = [
            f"{clean(t.get('name'), 50)} ({clean(t.get('reason'), 60) or 'no reason given'})"
            for t in left_out[:3]
        ]
        extra = f", plus {len(left_out) - 3} more" if len(left_out) > 3 else ""
        sentences.append(f"{plural(len(left_out), 'task')} left out: {'; '.join(shown)}{extra}.")
    else:
        sentences.append("Nothing ready was left out.")
    sentences.append(f"Main risks: {'; '.join(risks[:3])}." if risks else "No specific risks were flagged.")
    return PlanNarrative(sprint_goal=goal[:300], narrative=" ".join(sentences), risks=risks[:12])
