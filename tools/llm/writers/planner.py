"""Offline writer for the planner's summary: sprint goal, narrative and risks from the computed plan."""

from __future__ import annotations

from typing import Any

from tools.llm.offline import clean, join_names, number, plural, register, shorten, themes
from tools.llm.schemas import PlanNarrative


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
            f"{clean(t.get('name'), 50)} ({shorten(t.get('reason'), 60) or 'no reason given'})"
            for t in left_out[:3]
        ]
        extra = f", plus {len(left_out) - 3} more" if len(left_out) > 3 else ""
        sentences.append(f"{plural(len(left_out), 'task')} left out: {'; '.join(shown)}{extra}.")
    else:
        sentences.append("Nothing ready was left out.")
    sentences.append(f"Main risks: {'; '.join(risks[:3])}." if risks else "No specific risks were flagged.")
    return PlanNarrative(sprint_goal=goal[:300], narrative=" ".join(sentences), risks=risks[:12])
