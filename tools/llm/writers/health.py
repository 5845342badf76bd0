"""Offline writer for the portfolio-health summary."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tools.llm.offline import clean, number, register


class _Narrative(BaseModel):
    headline: str
    summary: str


@register("health_summary")
def health_summary(v: dict[str, Any]) -> _Narrative:
    name = clean(v.get("portfolio_name") or "The portfolio", 60)
    slope = float(v.get("slope") or 0)
    direction = "improving" if slope > 1 else "declining" if slope < -1 else "steady"
    comps = [c for c in v.get("components") or [] if c.get("value") is not None]
    comps.sort(key=lambda c: float(c["value"]))
    parts = [
        f"{name} scores {number(v.get('score'))} out of 100 ({v.get('band')}), "
        f"{direction} over the last sprints."
    ]
    if comps:
        low, high = comps[0], comps[-1]
        parts.append(f"The weakest component is {low['name'].lower()} ({clean(low['detail'], 120)}).")
        if high is not low:
            parts.append(f"The strongest is {high['name'].lower()} ({clean(high['detail'], 120)}).")
    return _Narrative(
        headline=f"{name}: health {number(v.get('score'))}/100, {direction}.", summary=" ".join(parts)
    )
