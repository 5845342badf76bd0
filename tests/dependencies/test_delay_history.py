"""Team-history features: only outcomes known before a task's moment, and the Asana-only subset."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np
import pytest

from tools.asana.models import Task
from tools.delay_risk.asana_features import day_number, history_item, history_query
from tools.delay_risk.features import ASANA, ASANA_FEATURES, FEATURE_NAMES, FEATURES
from tools.delay_risk.history import (
    CANDIDATE_FEATURES,
    DECAY_DAYS,
    HISTORY_FEATURES,
    OVERDUE_FEATURES,
    PRIOR,
    SMOOTHING,
    HistoryItem,
    Query,
    history_features,
)
from tools.delay_risk.model import DelayRiskModel, ModelConfig


def _item(
    opened: float, settled: float | None, late: bool | None, comp: str = "A", due: float = 50.0
) -> HistoryItem:
    return HistoryItem(
        opened_day=opened,
        due_set_day=opened,
        due_day=50.0,
        component=comp,
        type="Bug",
        priority="High",
        settled_day=settled,
        late=late,
        delay_days=5.0 if late else 0.0,
    )


def test_only_outcomes_settled_before_the_moment_count() -> None:
    items = [_item(0, 10, True), _item(1, 20, False), _item(2, 30, True, comp="B")]
    q = [Query(as_of=t, component="A", type="Bug", priority="High", due_day=50.0) for t in (10, 10.5, 25, 31)]
    at10, at10_5, at25, at31 = history_features(items, q)
    # Day 10: the first outcome settles that very day, so it is not yet known (strictly before).
    assert at10["team_late_share"] is None and at10["team_late_recent"] is None
    assert at10["component_settled"] == 0 and at10["team_open"] == 3
    assert at10_5["team_late_share"] == 1.0 and at10_5["component_settled"] == 1
    assert at25["team_late_share"] == 0.5 and at25["team_mean_delay_days"] == 2.5
    # Smoothed towards the team's recent share: 1 late of 2 in A, prior 0.5.
    assert at25["component_late_share"] == pytest.approx((1 + SMOOTHING * 0.5) / (2 + SMOOTHING))
    assert at25["component_open"] == 0 and at25["team_open"] == 1
    assert at31["team_late_share"] == pytest.approx(2 / 3)
    # The same due date in the same component: three items' due dates were set by day 10.
    assert at10["same_due"] == 2  # A's two items; B's is another component


def test_unsettled_items_never_leak_an_outcome() -> None:
    # A late outcome known only on day 100 must not change what a day-50 query sees.
    base = [_item(0, 10, False), _item(1, 11, False)]
    q = [Query(as_of=50, component="A", type="Bug", priority="High", due_day=None)]
    before = history_features(base, q)[0]
    after = history_features([*base, _item(2, 100, True)], q)[0]
    assert before["team_late_share"] == after["team_late_share"] == 0.0
    assert after["team_open"] == 1 and before["team_open"] == 0  # open: all that is known on day 50
    open_item = history_features([*base, _item(2, None, None)], q)[0]
    assert open_item["team_late_share"] == 0.0 and open_item["same_due"] is None


def test_lateness_counts_when_known_and_the_delay_only_once_resolved() -> None:
    # Late, known late on day 11 (the day after its due date), resolved on day 40, 30 days late.
    late = replace(_item(0, 11, True), resolved_day=40.0, delay_days=30.0)
    on_time = _item(1, 5, False)
    q = [Query(as_of=t, component="A", type="Bug", priority="High", due_day=None) for t in (12, 41)]
    at12, at41 = history_features([late, on_time], q)
    assert at12["team_late_share"] == 0.5 and at12["team_overdue_open"] == 1
    assert at12["component_overdue_open"] == 1
    assert at12["team_mean_delay_days"] == 0.0  # only the on-time task is resolved
    assert at41["team_overdue_open"] == 0 and at41["team_mean_delay_days"] == 15.0
    # Another component's overdue task is not this one's.
    other = history_features([late, on_time], [replace(q[0], component="B")])[0]
    assert other["component_overdue_open"] == 0 and other["team_overdue_open"] == 1


def test_decayed_shares_weigh_recent_outcomes_more() -> None:
    # An old late outcome and a recent on-time one: the decayed share leans to the recent one.
    items = [_item(0, 1, True), _item(0, 721, False)]
    q = [Query(as_of=722, component="A", type="Bug", priority="High", due_day=None)]
    h = history_features(items, q)[0]
    assert h["team_late_share"] == 0.5
    # Weights 0.5 ** (age / half-life) at the query, smoothed towards the prior like the others.
    old, new = 0.5 ** (721 / DECAY_DAYS), 0.5 ** (1 / DECAY_DAYS)
    assert h["team_late_decay"] == pytest.approx((old + SMOOTHING * PRIOR) / (old + new + SMOOTHING))
    num = {k: v for k, v in h.items() if v is not None}
    assert num["team_late_decay"] < (1 + SMOOTHING * PRIOR) / (2 + SMOOTHING)  # undecayed
    assert num["component_late_decay"] < num["component_late_share"]
    gap = num["component_late_share"] - num["team_late_recent_long"]
    assert num["component_vs_team"] == pytest.approx(gap)


def test_feature_catalogue_marks_what_the_product_can_read() -> None:
    assert set(HISTORY_FEATURES) <= set(ASANA_FEATURES)
    assert {f.name for f in FEATURES if f.source != ASANA} == set(FEATURE_NAMES) - set(ASANA_FEATURES)
    for jira_only in ("fix_versions", "reporter_reputation", "sequence", "topic_10", "comments"):
        assert jira_only not in ASANA_FEATURES
    # The product default: Asana-readable, without the absolute dates (issue 22, time-ordered).
    # Of the candidate history features only the overdue counts won on the inner split.
    assert ModelConfig().features == tuple(
        n
        for n in ASANA_FEATURES
        if n not in ("opened_day", "due_day") and (n not in CANDIDATE_FEATURES or n in OVERDUE_FEATURES)
    )
    assert set(CANDIDATE_FEATURES) <= set(ASANA_FEATURES)


def _planted(n: int, seed: int) -> tuple[list[dict[str, object]], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    runway = rng.integers(0, 60, n)
    comments = rng.integers(0, 10, n)
    y = ((runway < 15) | (rng.random(n) < 0.05)).astype(int)
    records: list[dict[str, object]] = [
        {"remaining_days": float(r), "comments": float(c + 20 * yy)}
        for r, c, yy in zip(runway, comments, y, strict=True)
    ]
    return records, y, np.arange(n, dtype=float)


def test_model_uses_only_its_feature_subset_and_time_options() -> None:
    records, y, times = _planted(300, seed=1)
    small = ModelConfig(max_iter=40, forest_trees=20)
    asana = DelayRiskModel(small).fit(records, y)
    assert "comments" not in asana.importance(records[:50])  # a story-only fact stays out
    everything = DelayRiskModel(replace(small, features=FEATURE_NAMES)).fit(records, y)
    assert next(iter(everything.importance(records[:50]))) == "comments"  # the planted column wins there
    latest = DelayRiskModel(replace(small, threshold_from="latest", half_life_days=100.0)).fit(
        records, y, times
    )
    assert 0 < latest.threshold < 1
    blocks = DelayRiskModel(replace(small, threshold_from="blocks", latest_share=0.3)).fit(records, y, times)
    assert 0 < blocks.threshold < 1
    with pytest.raises(ValueError, match="one value per training record"):
        DelayRiskModel(small).fit(records, y, times[:-1])
    with pytest.raises(ValueError, match="unknown delay-risk features"):
        DelayRiskModel(ModelConfig(features=("nope",)))


def test_asana_tasks_become_history_with_outcomes_known_only_when_settled() -> None:
    def task(gid: str, **over: object) -> Task:
        values: dict[str, object] = {"gid": gid, "name": gid, "created_at": datetime(2026, 11, 2, tzinfo=UTC)}
        values.update(over)
        return Task.model_validate(values)

    due = date(2026, 11, 13)
    done_late = task("a", completed=True, completed_at=datetime(2026, 11, 18, tzinfo=UTC))
    open_late = task("b")
    not_due = task("c")
    items = [
        history_item(done_late, due_on=due, component="Web", is_late=True),
        history_item(open_late, due_on=due, component="Web", is_late=True),
        history_item(not_due, due_on=date(2026, 12, 4), component="Web", is_late=None),
    ]
    # Late is known the day after the due date; how late, once the task is done.
    assert items[0].settled_day == day_number(date(2026, 11, 14)) and items[0].delay_days == 5
    assert items[0].resolved_day == day_number(date(2026, 11, 18))
    assert items[1].settled_day == day_number(date(2026, 11, 14)) and items[1].resolved_day == float("inf")
    assert items[1].delay_days == 0  # still open: its delay is not known yet
    assert items[2].settled_day is None and items[2].opened_day == day_number(date(2026, 11, 2))
    queries = [
        history_query(not_due, due_on=date(2026, 12, 4), as_of=day, component="Web")
        for day in (date(2026, 11, 14), date(2026, 11, 15), date(2026, 11, 19))
    ]
    first, second, third = history_features(items, queries)
    assert first["team_late_share"] is None and first["team_open"] == 3
    assert second["team_late_share"] == 1.0 and second["team_open"] == 1
    assert second["team_overdue_open"] == 2 and second["team_mean_delay_days"] is None
    assert third["component_settled"] == 2 and third["team_mean_delay_days"] == 5.0
    assert third["team_overdue_open"] == 1 and third["component_overdue_open"] == 1
