"""The delay-risk model: categories, the record view of an EMSE2017 row, learning and explaining."""

from __future__ import annotations

import random
from datetime import datetime

import numpy as np
import pytest

from evals.datasets.delays import DelayRow
from evals.delays import to_record
from tools.delay_risk.features import FEATURE_NAMES, OTHER, Vocabulary, encode
from tools.delay_risk.model import DelayRiskModel, ModelConfig


def test_rare_and_unseen_categories_share_the_other_code() -> None:
    records = [{"component": "CORE"}] * 25 + [{"component": "TINY"}] * 3
    vocab = Vocabulary(min_count=20).fit(records)
    core, tiny, unseen = (vocab.code("component", c) for c in ("CORE", "TINY", "NEW"))
    assert tiny == unseen == vocab.codes["component"][OTHER]
    assert core != tiny


def _row(**over: object) -> DelayRow:
    values: dict[str, object] = {
        "issuekey": "GLASSFISH-11757",
        "delaydays": 211,
        "openeddate": datetime(2009, 10, 27),
        "type": "Bug",
        "discussion": 0,
        "repetition": 0,
        "perofdelay": 0.0,
        "workload": 1,
        "priority": "Critical",
        "no_comment": 0,
        "no_priority_change": 0,
        "no_fixversion": 1,
        "no_fixversion_change": 0,
        "no_issuelink": 0,
        "no_blocking": 0,
        "no_blockedby": 0,
        "no_affectversion": 1,
        "reporterrep": 0.27,
        "no_des_change": 0,
        "ProgressTime": 0,
        "RemainingDay": 3,
        "topic_10": 8,
    }
    values.update(over)
    return DelayRow.model_validate(values)


def test_record_has_commitment_time_features_and_no_outcome() -> None:
    record = to_record(_row())
    assert record["component"] == "GLASSFISH" and record["sequence"] == 11757.0
    assert record["due_day"] == datetime(2009, 10, 30) and record["due_weekday"] == 4  # a Friday
    assert 211 not in record.values()  # the delay itself never reaches the model
    assert set(record) <= set(FEATURE_NAMES)


def _synthetic(n: int, seed: int) -> tuple[list[dict[str, object]], np.ndarray]:
    rnd = random.Random(seed)
    records, labels = [], []
    for _ in range(n):
        runway = rnd.randint(0, 60)
        late_share = rnd.random()
        records.append(
            {
                "remaining_days": runway,
                "assignee_late_share": late_share,
                "comments": rnd.randint(0, 9),
                "component": rnd.choice(["A", "B"]),
                "type": "Bug",
            }
        )
        labels.append((runway < 15 and late_share > 0.5) or rnd.random() < 0.03)
    return records, np.array(labels, dtype=int)


@pytest.mark.parametrize("forest_weight", [0.0, 0.5])
def test_model_learns_a_planted_signal_and_explains_it(forest_weight: float) -> None:
    records, y = _synthetic(600, seed=3)
    config = ModelConfig(max_iter=60, forest_trees=40, forest_weight=forest_weight, seed=0)
    model = DelayRiskModel(config).fit(records[:450], y[:450])
    proba = model.predict_proba(records[450:])
    pred = model.predict(records[450:])
    assert 0 < model.threshold < 1
    late, on_time = proba[y[450:] == 1].mean(), proba[y[450:] == 0].mean()
    assert late > on_time + 0.3
    assert (pred == (proba >= model.threshold)).all()
    risky = {"remaining_days": 2, "assignee_late_share": 0.9, "comments": 1, "component": "A", "type": "Bug"}
    reasons = model.explain(risky)
    assert reasons and {r.feature for r in reasons[:2]} == {"remaining_days", "assignee_late_share"}
    assert all(r.effect > 0 and r.description for r in reasons)


def test_training_needs_both_classes() -> None:
    records, _ = _synthetic(30, seed=1)
    with pytest.raises(ValueError, match="both delayed and on-time"):
        DelayRiskModel().fit(records, np.zeros(30, dtype=int))


def test_encode_is_stable_for_missing_values() -> None:
    vocab = Vocabulary().fit([{"type": "Bug"}])
    row = encode([{}], vocab)
    assert row.shape == (1, len(FEATURE_NAMES))
    assert np.isnan(row[0, FEATURE_NAMES.index("remaining_days")])


def test_monotone_late_shares_never_lower_the_risk() -> None:
    records, y = _synthetic(600, seed=5)
    config = ModelConfig(
        max_iter=60,
        forest_weight=0.0,
        features=("remaining_days", "assignee_late_share", "comments"),
        monotone_increasing=("assignee_late_share",),
    )
    model = DelayRiskModel(config).fit(records, y)
    probes = [{"remaining_days": 5, "assignee_late_share": s / 10, "comments": 3} for s in range(11)]
    proba = model.predict_proba(probes)
    assert (np.diff(proba) >= -1e-12).all() and proba[-1] > proba[0]


def test_rank_blend_with_a_linear_model_scores_in_the_unit_range() -> None:
    records, y = _synthetic(600, seed=6)
    config = ModelConfig(max_iter=60, forest_weight=0.0, linear_weight=0.5)
    model = DelayRiskModel(config).fit(records[:450], y[:450])
    proba = model.predict_proba(records[450:])
    assert ((proba >= 0) & (proba <= 1)).all() and 0 < model.threshold <= 1
    assert proba[y[450:] == 1].mean() > proba[y[450:] == 0].mean() + 0.2
