"""When the delay eval scores an issue (`evals.delays.PredictionTime`): the own-issue counts carry
no Jira-only fact, a later moment never sees the issue's own outcome, and the runway reads as the
days left unless kept."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

import evals.delays as delays
from evals.datasets.delays import DelayRow
from tools.delay_risk.features import ASANA_FEATURES

OWN_COUNTS = ("same_due", "team_open", "component_open")


def _rows(n: int = 120, seed: int = 3) -> list[DelayRow]:
    """One issue a day in two components; some had time in progress before their due date."""
    rng = random.Random(seed)
    start = datetime(2012, 3, 1)
    rows = []
    for i in range(n):
        runway = rng.randint(0, 30)
        rows.append(
            DelayRow.model_validate(
                {
                    "issuekey": f"{'AB'[i % 2]}-{i + 1}",
                    "delaydays": rng.randint(1, 15) if runway < 10 else 0,
                    "openeddate": start + timedelta(days=i),
                    "type": "Bug",
                    "discussion": 0,
                    "repetition": 0,
                    "perofdelay": 0.1,
                    "workload": 2,
                    "priority": "Major",
                    "no_comment": 0,
                    "no_priority_change": 0,
                    "no_fixversion": 0,
                    "no_fixversion_change": 0,
                    "no_issuelink": 0,
                    "no_blocking": 0,
                    "no_blockedby": 0,
                    "no_affectversion": 0,
                    "reporterrep": 0.5,
                    "no_des_change": 0,
                    "ProgressTime": rng.choice([0, 0, 3]),
                    "RemainingDay": runway,
                }
            )
        )
    return rows


def _with_progress(rows: list[DelayRow], i: int, days: float) -> list[DelayRow]:
    changed = DelayRow.model_validate({**rows[i].model_dump(by_alias=True), "ProgressTime": days})
    return [*rows[:i], changed, *rows[i + 1 :]]


def test_own_counts_do_not_reveal_time_in_progress_when_counted_alike() -> None:
    rows = _rows()
    i = 60
    idle, busy = _with_progress(rows, i, 0.0), _with_progress(rows, i, 5.0)
    # The old reading: the issue's own due date is missing from its `same_due` when it had time in
    # progress, so an "Asana-readable" count carried the Jira-only ProgressTime.
    leaky = [delays.with_history(r)[i] for r in (idle, busy)]
    assert leaky[0]["same_due"] != leaky[1]["same_due"]
    alike = delays.PredictionTime(own_alike=True)
    fixed = [delays.with_history(r, when=alike)[i] for r in (idle, busy)]
    assert all(fixed[0][k] == fixed[1][k] for k in OWN_COUNTS)
    assert fixed[0]["same_due"] is not None and fixed[0]["same_due"] >= 1  # its own due date counts
    # No Asana-readable feature of the issue depends on its time in progress any more.
    assert all(fixed[0].get(k) == fixed[1].get(k) for k in ASANA_FEATURES)


def test_a_later_moment_reads_days_left_and_never_its_own_outcome() -> None:
    rows = _rows()
    for when in (
        delays.PredictionTime(own_alike=True, runway_share=0.5),
        delays.PredictionTime(own_alike=True, days_before_due=0.0),  # as late as the due date
    ):
        base = delays.with_history(rows, prompt_late=True, when=when)
        for i in (20, 61, 99):
            flipped = rows[i].model_copy(update={"delaydays": 0.0 if rows[i].delayed else 9.0})
            again = delays.with_history([*rows[:i], flipped, *rows[i + 1 :]], prompt_late=True, when=when)
            assert again[i] == base[i]
    mid = delays.with_history(rows, when=delays.PredictionTime(runway_share=0.5))
    kept = delays.with_history(rows, when=delays.PredictionTime(runway_share=0.5, keep_runway=True))
    opened = delays.with_history(rows)
    for r, m, k, o in zip(rows, mid, kept, opened, strict=True):
        assert m["remaining_days"] == pytest.approx((r.progress_time + r.remaining_day) * 0.5)
        assert k["remaining_days"] == r.remaining_day  # the runway at the commitment
        # Later, at least as much of the team's history has settled.
        assert (m["component_settled"] or 0) >= (o["component_settled"] or 0)
    assert sum(m["component_settled"] for m in mid) > sum(o["component_settled"] for o in opened)


def test_the_default_variant_counts_the_own_issue_alike() -> None:
    chosen = delays.VARIANTS[delays.DEFAULT_VARIANT]
    assert chosen.when.own_alike and chosen.when.moment == "opened"
    assert not delays.VARIANTS["blend-leaky-counts"].when.own_alike
