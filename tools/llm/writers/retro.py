"""Offline writer for `retro_notes`: bullet points and a review draft from the computed facts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tools.llm.offline import clean, join_names, number, plural, register


class _RetroText(BaseModel):
    went_well: list[str] = Field(default_factory=list)
    did_not_go_well: list[str] = Field(default_factory=list)
    review_narrative: str


@register("retro_notes")
def write_retro_notes(v: dict[str, Any]) -> _RetroText:
    n = v.get("numbers") or {}
    mood = v.get("mood") or {}
    done = v.get("done_tasks") or []
    carry = v.get("carry_over") or []
    themes = v.get("themes") or []
    blockers = v.get("blockers") or []
    good: list[str] = []
    bad: list[str] = []
    rate = n.get("completion_rate")
    if done:
        good.append(f"Completed {len(done)} items ({number(n.get('completed_points', 0))} points).")
    if rate is not None and rate >= 0.8:
        good.append(f"Delivered {round(rate * 100)}% of the scope in points.")
    if not carry and done:
        good.append("Nothing carried over.")
    if mood.get("comments") and mood.get("positive", 0) > mood.get("negative", 0):
        good.append(
            f"Comments were mostly positive ({mood['positive']} positive, {mood['negative']} negative)."
        )
    good += [f"{t['name']} came up {t['count']} times." for t in themes if t.get("kind") == "positive"][:2]
    if carry:
        bad.append(f"{len(carry)} items carried over ({number(n.get('carry_over_points', 0))} points).")
    if n.get("added_items"):
        bad.append(
            f"Scope grew mid-sprint by {n['added_items']} items ({number(n.get('added_points', 0))} points)."
        )
    if blockers:
        worst = blockers[0]
        bad.append(
            f"{plural(len(blockers), 'blocked period')}, longest: "
            f"{clean(worst['task'], 60)} ({worst['days']} days)."
        )
    if mood.get("trend") == "declining":
        bad.append("Comment sentiment declined over the sprint.")
    for t in themes:
        if t.get("kind") == "problem":
            again = " (recurring)" if t.get("recurring") else ""
            bad.append(f"{t['name']}{again}: {t['count']} mentions.")
    if not good:
        good.append("Too little activity was recorded to name a success.")
    if done:
        names = join_names([clean(d["name"], 50) for d in done[:6]])
        more = f" and {len(done) - 6} more" if len(done) > 6 else ""
        review = (
            f"In {v.get('sprint_name')} the team completed {len(done)} items "
            f"({number(n.get('completed_points', 0))} points): {names}{more}."
        )
        if carry:
            review += f" {len(carry)} items move to the next sprint."
    else:
        review = f"No work was completed in {v.get('sprint_name')}; there is nothing to demo."
    return _RetroText(went_well=good[:5], did_not_go_well=bad[:5], review_narrative=review)
