"""The delay-risk features, what each means, and how a record becomes a feature row.

Every feature is known at the moment a due date is assigned (the EMSE2017 `_due` snapshot): none
is an outcome (resolution date, delay days, final status). A team reading a flag sees these names
and descriptions next to the values that pushed the score up (see `model.DelayRiskModel.explain`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    categorical: bool = False


FEATURES: tuple[Feature, ...] = (
    Feature("remaining_days", "days from the commitment to the due date (short runways slip more)"),
    Feature("progress_days", "days the issue had already been in progress when the due date was set"),
    Feature("discussion_days", "days of discussion before the commitment"),
    Feature("assignee_late_share", "share of the assignee's past issues that finished late"),
    Feature("assignee_workload", "open issues the assignee holds"),
    Feature("reopened", "times the issue was reopened"),
    Feature("comments", "comments so far"),
    Feature("priority_changes", "times the priority changed"),
    Feature("fix_versions", "fix versions set"),
    Feature("fix_version_changes", "times the fix version changed"),
    Feature("links", "issue links of any kind"),
    Feature("blocks", "issues this one blocks (its dependents)"),
    Feature("blocked_by", "issues blocking this one (its prerequisites)"),
    Feature("affect_versions", "affected versions"),
    Feature("reporter_reputation", "reporter reputation score (from their past reports)"),
    Feature("description_changes", "times the description changed"),
    Feature("opened_day", "when the issue was opened (days since 1970): captures era/process changes"),
    Feature("due_day", "the due date itself (days since 1970): release dates gather many issues"),
    Feature("due_weekday", "weekday of the due date (0 = Monday)"),
    Feature("sequence", "the issue's number within its project (its creation order there)"),
    Feature("component", "the project or component the issue belongs to (teams differ)", categorical=True),
    Feature("type", "issue type (bug, task, improvement, ...)", categorical=True),
    Feature("priority", "priority (blocker ... trivial)", categorical=True),
    Feature("topic_10", "topic of the issue text among 10 LDA topics", categorical=True),
    Feature("topic_100", "topic of the issue text among 100 LDA topics"),
    Feature("topic_200", "topic of the issue text among 200 LDA topics"),
    Feature("topic_300", "topic of the issue text among 300 LDA topics"),
    Feature("topic_400", "topic of the issue text among 400 LDA topics"),
)
FEATURE_NAMES = tuple(f.name for f in FEATURES)
DESCRIPTIONS = {f.name: f.description for f in FEATURES}
# Tree models split on raw ids for the finer topic models (too many ids to one-hot usefully).
CATEGORICAL = tuple(f.name for f in FEATURES if f.categorical)
MISSING = "(none)"


OTHER = "(other)"


class Vocabulary:
    """Category → code per categorical feature, learned from training rows only.

    Categories seen fewer than `min_count` times share one "(other)" code: a handful of rows is
    too few to learn a category's own delay rate, and the trees would memorise them instead.
    """

    def __init__(self, min_count: int = 20) -> None:
        self.min_count = min_count
        self.codes: dict[str, dict[str, int]] = {name: {} for name in CATEGORICAL}

    def fit(self, records: Sequence[Mapping[str, Any]]) -> Vocabulary:
        for name in CATEGORICAL:
            counts = Counter(_category(r.get(name)) for r in records)
            values = sorted(v for v, n in counts.items() if n >= self.min_count)
            self.codes[name] = {v: i for i, v in enumerate([*values, OTHER])}
        return self

    def code(self, name: str, value: Any) -> float:
        codes = self.codes[name]
        found = codes.get(_category(value))
        if found is None:
            # Rare or unseen categories get the shared "(other)" code.
            found = codes.get(OTHER)
        return float("nan") if found is None else float(found)


def _category(value: Any) -> str:
    return MISSING if value is None or value == "" else str(value)


def _number(value: Any) -> float:
    if value is None or value == "":
        return float("nan")
    if isinstance(value, datetime):
        return value.timestamp() / 86_400.0
    return float(value)


def encode(records: Sequence[Mapping[str, Any]], vocab: Vocabulary) -> np.ndarray:
    """Rows in FEATURE_NAMES order (missing values as NaN, which the model handles natively)."""
    out = np.empty((len(records), len(FEATURES)), dtype=float)
    for i, r in enumerate(records):
        for j, f in enumerate(FEATURES):
            out[i, j] = vocab.code(f.name, r.get(f.name)) if f.categorical else _number(r.get(f.name))
    return out
