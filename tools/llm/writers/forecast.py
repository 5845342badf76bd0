"""Offline writer for the forecast summary: templated sentences from the computed forecast."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tools.llm.offline import clean, join_names, number, register


class _Narrative(BaseModel):
    headline: str
    summary: str


@register("forecast_summary")
def forecast_summary(v: dict[str, Any]) -> _Narrative:
    project = clean(v.get("project_name") or "The team", 60)
    scope = clean(v.get("scope_label") or "the backlog", 60)
    p50, p85, p95 = (number(v.get(k) or 0) for k in ("p50", "p85", "p95"))
    done50, done85 = v.get("done_p50") or "", v.get("done_p85") or ""
    if v.get("basis") == "none":
        return _Narrative(
            headline=f"{project}: no velocity history yet, so no forecast.",
            summary="No past sprint has completed points recorded, so the forecast cannot say anything yet.",
        )
    when = f"likely done by {done50}" if done50 else "not done within the forecast horizon"
    headline = f"{project}: about {p50} points next sprint; {scope} {when}."
    parts = [
        f"Next sprint the team should finish about {p50} points "
        f"(85% chance of at most {p85}, 95% of at most {p95}).",
        # `scope` already reads "the whole backlog" / "section X"; say the 85% date only when it differs.
        f"{scope[:1].upper()}{scope[1:]} ({number(v.get('scope_points') or 0)} points) is {when}"
        + (f", or by {done85} with 85% confidence." if done85 and done85 != done50 else "."),
    ]
    if v.get("by"):
        prob = v.get("by_probability")
        parts.append(f"The chance it is all done by {v['by']} is {round(100 * float(prob or 0))}%.")
    over = [clean(n, 40) for n in v.get("over_allocated") or []]
    if over:
        parts.append(f"Over-allocated in the upcoming sprint: {join_names(over)}.")
    if v.get("caveat"):
        parts.append(clean(v["caveat"], 200))
    return _Narrative(headline=headline[:200], summary=" ".join(parts))
