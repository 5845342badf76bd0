"""Team-history features of a task, from outcomes that were known before the task's moment.

A product predicts the future from the past: a task scored on day t may only learn from tasks
whose outcome was already known before t (finished, or past their due date). Counting outcomes
over the whole history instead would let a training row see later tasks — the leak that makes a
random train/test split look better than a time-ordered one. Everything here is computed with one
sweep in time order, so each query sees exactly the outcomes settled strictly before its `as_of`.

Every input is readable from Asana (creation day, due date, completion, project, tag, priority
field), so the product and the eval compute these features the same way. Days are floats (days
since 1970, see `asana_features.day_number`). A late task's lateness is known the day after its
due date (`settled_day`), its delay's length only once it is resolved (`resolved_day`): between the
two it counts as overdue and open.
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
# Candidates measured on issue 22's inner split (README, delay-risk section); the model uses them
# only when its feature list names them.
DECAY_DAYS = 180.0  # half-life of the time-decayed late shares
DECAY_FEATURES = (
    "team_late_decay",
    "component_late_decay",
    "type_late_decay",
    "priority_late_decay",
    "component_type_late_share",
)
# Group shares relative to the team's recent share: a drifting base rate (apache: 36% -> 62% late)
# moves every share, the differences less.
RELATIVE_FEATURES = ("component_vs_team", "type_vs_team", "priority_vs_team", "team_drift")
# Tasks past due and not yet resolved at the moment: known late, length of the delay still unknown.
OVERDUE_FEATURES = ("team_overdue_open", "component_overdue_open")
CANDIDATE_FEATURES = DECAY_FEATURES + RELATIVE_FEATURES + OVERDUE_FEATURES
ALL_HISTORY_FEATURES = HISTORY_FEATURES + CANDIDATE_FEATURES


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
    # When the task was resolved (its delay's length known); None: at `settled_day`. A late task's
    # lateness is known the day after its due date, its delay only once it is resolved.
    resolved_day: float | None = None


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


class _Decayed:
    """Late and settled counts per group value, each outcome weighted 0.5 ** (age / DECAY_DAYS)."""

    def __init__(self) -> None:
        self.n: dict[object, float] = {}
        self.k: dict[object, float] = {}
        self.t: dict[object, float] = {}

    def _decay(self, key: object, t: float) -> None:
        last = self.t.get(key)
        if last is not None and t > last:
            f = 0.5 ** ((t - last) / DECAY_DAYS)
            self.n[key] *= f
            self.k[key] *= f
        self.t[key] = max(t, last) if last is not None else t

    def add(self, key: object, late: bool, t: float) -> None:
        self._decay(key, t)
        self.n[key] = self.n.get(key, 0.0) + 1.0
        self.k[key] = self.k.get(key, 0.0) + float(late)

    def share(self, key: object, t: float, prior: float) -> float:
        if key in self.t:
            self._decay(key, t)
        return (self.k.get(key, 0.0) + SMOOTHING * prior) / (self.n.get(key, 0.0) + SMOOTHING)


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
    resolved = sorted(
        (it.resolved_day if it.resolved_day is not None else it.settled_day, i)
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
    decayed = _Decayed()
    pair = _Groups()
    overdue: Counter[str | None] = Counter()  # known late, not yet resolved, per component
    total_delay = 0.0
    n_settled = n_late = n_resolved = 0
    s = o = d = r = 0
    out: list[dict[str, float | None]] = [{} for _ in queries]
    for q in order:
        query = queries[q]
        t = query.as_of
        while s < len(settled) and settled[s][0] < t:
            it = items[settled[s][1]]
            s += 1
            is_late = bool(it.late)
            when = settled[s - 1][0]
            comp.add(it.component, is_late)
            kind.add(it.type, is_late)
            prio.add(it.priority, is_late)
            pair.add(f"{it.component}\x1f{it.type}", is_late)
            for key in (("team",), ("c", it.component), ("t", it.type), ("p", it.priority)):
                decayed.add(key, is_late, when)
            recent.append(int(is_late))
            comp_recent[it.component].append(int(is_late))
            overdue[it.component] += 1
            n_settled += 1
            n_late += int(is_late)
        # The delay's length counts once the task is resolved (never before its outcome settled).
        while r < len(resolved) and resolved[r][0] < t:
            it = items[resolved[r][1]]
            r += 1
            total_delay += it.delay_days
            overdue[it.component] -= 1
            n_resolved += 1
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
        comp_share = comp.share(query.component, prior)
        type_share = kind.share(query.type, prior)
        prio_share = prio.share(query.priority, prior)
        team_decay = decayed.share(("team",), t, PRIOR)
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
            "team_mean_delay_days": total_delay / n_resolved if n_resolved else None,
            "team_late_decay": team_decay,
            "component_late_decay": decayed.share(("c", query.component), t, team_decay),
            "type_late_decay": decayed.share(("t", query.type), t, team_decay),
            "priority_late_decay": decayed.share(("p", query.priority), t, team_decay),
            "component_type_late_share": pair.share(f"{query.component}\x1f{query.type}", comp_share),
            "component_vs_team": comp_share - prior,
            "type_vs_team": type_share - prior,
            "priority_vs_team": prio_share - prior,
            "team_drift": None if long is None or not n_settled else long - n_late / n_settled,
            "team_overdue_open": float(s - r),
            "component_overdue_open": float(overdue[query.component]),
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
