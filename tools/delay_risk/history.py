"""Team-history features of a task, from outcomes that were known before the task's moment.

A product predicts the future from the past: a task scored on day t may only learn from tasks
whose outcome was already known before t (finished, or past their due date). Counting outcomes
over the whole history instead would let a training row see later tasks — the leak that makes a
random train/test split look better than a time-ordered one. Everything here is computed with one
sweep in time order, so each query sees exactly the outcomes settled strictly before its `as_of`.

Every input is readable from Asana (creation day, due date, completion, project, tag, priority
field), so the product and the eval compute these features the same way. Days are floats (days
since 1970, see `asana_features.day_number`).
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass

RECENT_SHORT = 20
RECENT_LONG = 100
# Pseudo-count pulling a group's late share towards the team's recent share: a component with
# three settled tasks should not read as 0% or 100% late.
SMOOTHING = 10.0
PRIOR = 0.25  # late share assumed before anything has settled (EMSE2017 mean is 0.21)

HISTORY_FEATURES = (
    "team_late_recent",
    "team_late_recent_long",
    "team_late_share",
    "component_late_share",
    "component_late_recent",
    "type_late_share",
    "priority_late_share",
    "component_settled",
    "team_open",
    "component_open",
    "same_due",
    "team_mean_delay_days",
)


@dataclass(frozen=True)
class HistoryItem:
    """One task of the team's history. `settled_day`/`late` are None while the outcome is unknown."""

    opened_day: float
    due_set_day: float  # when its due date was known
    due_day: float
    component: str | None
    type: str | None
    priority: str | None
    settled_day: float | None = None  # when its outcome was known (completion, or the due date)
    late: bool | None = None
    delay_days: float = 0.0
    assignee: str | None = None  # who holds it (the product reads it; EMSE2017 has no assignee ids)


@dataclass(frozen=True)
class Query:
    as_of: float
    component: str | None
    type: str | None
    priority: str | None
    due_day: float | None
    assignee: str | None = None


class _Groups:
    """Settled and late counts per group value."""

    def __init__(self) -> None:
        self.n: Counter[str | None] = Counter()
        self.k: Counter[str | None] = Counter()

    def add(self, key: str | None, late: bool) -> None:
        self.n[key] += 1
        self.k[key] += int(late)

    def share(self, key: str | None, prior: float) -> float:
        return (self.k[key] + SMOOTHING * prior) / (self.n[key] + SMOOTHING)


def _mean(values: deque[int], last: int) -> float | None:
    if not values:
        return None
    tail = list(values)[-last:]
    return sum(tail) / len(tail)


def history_features(items: Sequence[HistoryItem], queries: Sequence[Query]) -> list[dict[str, float | None]]:
    """For each query, the HISTORY_FEATURES from the items settled (due dates set, tasks opened)
    strictly before its `as_of` (due dates: on or before)."""
    settled = sorted(
        (it.settled_day, i)
        for i, it in enumerate(items)
        if it.settled_day is not None and it.late is not None
    )
    opened = sorted((it.opened_day, i) for i, it in enumerate(items))
    due_set = sorted((it.due_set_day, i) for i, it in enumerate(items))
    order = sorted(range(len(queries)), key=lambda q: queries[q].as_of)
    comp, kind, prio = _Groups(), _Groups(), _Groups()
    recent: deque[int] = deque(maxlen=RECENT_LONG)
    comp_recent: dict[str | None, deque[int]] = defaultdict(lambda: deque(maxlen=RECENT_LONG))
    opened_per_comp: Counter[str | None] = Counter()
    due_count: Counter[tuple[str | None, float]] = Counter()
    total_delay = 0.0
    n_settled = n_late = 0
    s = o = d = 0
    out: list[dict[str, float | None]] = [{} for _ in queries]
    for q in order:
        query = queries[q]
        t = query.as_of
        while s < len(settled) and settled[s][0] < t:
            it = items[settled[s][1]]
            s += 1
            is_late = bool(it.late)
            comp.add(it.component, is_late)
            kind.add(it.type, is_late)
            prio.add(it.priority, is_late)
            recent.append(int(is_late))
            comp_recent[it.component].append(int(is_late))
            total_delay += it.delay_days
            n_settled += 1
            n_late += int(is_late)
        while o < len(opened) and opened[o][0] < t:
            opened_per_comp[items[opened[o][1]].component] += 1
            o += 1
        while d < len(due_set) and due_set[d][0] <= t:
            it = items[due_set[d][1]]
            due_count[(it.component, it.due_day)] += 1
            d += 1
        long = _mean(recent, RECENT_LONG)
        prior = PRIOR if long is None else long
        cr = comp_recent[query.component]
        out[q] = {
            "team_late_recent": _mean(recent, RECENT_SHORT),
            "team_late_recent_long": long,
            "team_late_share": n_late / n_settled if n_settled else None,
            "component_late_share": comp.share(query.component, prior),
            "component_late_recent": (sum(cr) + SMOOTHING * prior) / (len(cr) + SMOOTHING),
            "type_late_share": kind.share(query.type, prior),
            "priority_late_share": prio.share(query.priority, prior),
            "component_settled": float(comp.n[query.component]),
            "team_open": float(o - n_settled),
            "component_open": float(opened_per_comp[query.component] - comp.n[query.component]),
            "same_due": None if query.due_day is None else float(due_count[(query.component, query.due_day)]),
            "team_mean_delay_days": total_delay / n_settled if n_settled else None,
        }
    return out


def assignee_features(
    items: Sequence[HistoryItem], queries: Sequence[Query]
) -> list[dict[str, float | None]]:
    """Per query, the share of its assignee's tasks settled strictly before `as_of` that were late
    (None without an assignee or before any of theirs settled). The same past-only rule as the team
    features: counting every settled task instead lets a training row learn from its assignee's
    later outcomes. (The assignee's open load stays the one read now: there is no data to check an
    as-of version against.)"""
    settled = sorted(
        (it.settled_day, it.assignee, bool(it.late))
        for it in items
        if it.assignee is not None and it.settled_day is not None and it.late is not None
    )
    order = sorted(range(len(queries)), key=lambda q: queries[q].as_of)
    n: Counter[str] = Counter()
    k: Counter[str] = Counter()
    s = 0
    out: list[dict[str, float | None]] = [{} for _ in queries]
    for q in order:
        t, who = queries[q].as_of, queries[q].assignee
        while s < len(settled) and settled[s][0] < t:
            _, person, is_late = settled[s]
            n[person] += 1
            k[person] += int(is_late)
            s += 1
        share = round(k[who] / n[who], 4) if who is not None and n[who] else None
        out[q] = {"assignee_late_share": share}
    return out
