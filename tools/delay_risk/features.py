"""The delay-risk features, what each means, and how a record becomes a feature row.

Every feature is known at the moment a due date is assigned (the EMSE2017 `_due` snapshot): none
is an outcome (resolution date, delay days, final status). A team reading a flag sees these names
and descriptions next to the values that pushed the score up (see `model.DelayRiskModel.explain`).
Each feature also says where its value comes from (`source`); the product model uses only the ones
it reads from Asana (`ASANA_FEATURES`), the eval may also use the Jira-only ones to compare.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from tools.delay_risk.history import (
    CANDIDATE_FEATURES,
    DECAY_DAYS,
    OVERDUE_FEATURES,
    RECENT_LONG,
    RECENT_SHORT,
)

# Where a feature's value comes from, which says whether the product can read it at prediction time.
ASANA = "asana"  # read by the product from Asana tasks (tools.delay_risk.asana_features / history)
STORIES = "stories"  # only in a task's stories (comment/change log), which the product does not read
JIRA = "jira"  # no Asana counterpart: Jira versions, reporter reputation, issue numbers, LDA topics


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    categorical: bool = False
    source: str = ASANA


FEATURES: tuple[Feature, ...] = (
    Feature("remaining_days", "days from the commitment to the due date (short runways slip more)"),
    Feature("progress_days", "days in progress when the due date was set", source=STORIES),
    Feature("discussion_days", "days of discussion before the commitment", source=STORIES),
    Feature("assignee_late_share", "share of the assignee's past issues that finished late"),
    Feature("assignee_workload", "open issues the assignee holds"),
    Feature("reopened", "times the issue was reopened", source=STORIES),
    Feature("comments", "comments so far", source=STORIES),
    Feature("priority_changes", "times the priority changed", source=STORIES),
    Feature("fix_versions", "fix versions set", source=JIRA),
    Feature("fix_version_changes", "times the fix version changed", source=JIRA),
    Feature("links", "issue links of any kind"),
    Feature("blocks", "issues this one blocks (its dependents)"),
    Feature("blocked_by", "issues blocking this one (its prerequisites)"),
    Feature("affect_versions", "affected versions", source=JIRA),
    Feature("reporter_reputation", "reporter reputation score (from their past reports)", source=JIRA),
    Feature("description_changes", "times the description changed", source=STORIES),
    Feature("opened_day", "when the issue was opened (days since 1970): captures era/process changes"),
    Feature("due_day", "the due date itself (days since 1970): release dates gather many issues"),
    Feature("due_weekday", "weekday of the due date (0 = Monday)"),
    Feature("sequence", "the issue's number within its project (its creation order there)", source=JIRA),
    Feature("component", "the project or component the issue belongs to (teams differ)", categorical=True),
    Feature("type", "issue type (bug, task, improvement, ...)", categorical=True),
    Feature("priority", "priority (blocker ... trivial)", categorical=True),
    Feature("topic_10", "topic of the issue text among 10 LDA topics", categorical=True, source=JIRA),
    Feature("topic_100", "topic of the issue text among 100 LDA topics", source=JIRA),
    Feature("topic_200", "topic of the issue text among 200 LDA topics", source=JIRA),
    Feature("topic_300", "topic of the issue text among 300 LDA topics", source=JIRA),
    Feature("topic_400", "topic of the issue text among 400 LDA topics", source=JIRA),
    # Team history as of the commitment (tools.delay_risk.history): only outcomes known by then.
    Feature("team_late_recent", f"late share of the team's last {RECENT_SHORT} settled tasks"),
    Feature("team_late_recent_long", f"late share of the team's last {RECENT_LONG} settled tasks"),
    Feature("team_late_share", "late share of all the team's settled tasks so far"),
    Feature("component_late_share", "late share of this component's settled tasks so far (smoothed)"),
    Feature("component_late_recent", f"the component's late share over its last {RECENT_LONG} settled tasks"),
    Feature("type_late_share", "late share of settled tasks of this type so far (smoothed)"),
    Feature("priority_late_share", "late share of settled tasks of this priority so far (smoothed)"),
    Feature("component_settled", "settled tasks of this component so far (how much history it has)"),
    Feature("team_open", "the team's tasks opened and not yet settled (its backlog)"),
    Feature("component_open", "this component's tasks opened and not yet settled"),
    Feature("same_due", "tasks of this component already due on the same day (a release crunch)"),
    Feature("team_mean_delay_days", "mean days late over the team's resolved tasks so far"),
    # Candidates from issue 22's inner split (history.CANDIDATE_FEATURES; see the README).
    Feature(
        "team_late_decay", f"the team's late share, older outcomes fading (half-life {DECAY_DAYS:g} days)"
    ),
    Feature("component_late_decay", "this component's late share, older outcomes fading"),
    Feature("type_late_decay", "late share of this type, older outcomes fading"),
    Feature("priority_late_decay", "late share of this priority, older outcomes fading"),
    Feature("component_type_late_share", "late share of this type within this component (smoothed)"),
    Feature("component_vs_team", "the component's late share minus the team's recent one"),
    Feature("type_vs_team", "this type's late share minus the team's recent one"),
    Feature("priority_vs_team", "this priority's late share minus the team's recent one"),
    Feature(
        "team_drift", f"the team's late share over its last {RECENT_LONG} tasks minus its share over all"
    ),
    Feature("team_overdue_open", "the team's tasks past their due date and not yet done"),
    Feature("component_overdue_open", "this component's tasks past their due date and not yet done"),
)
FEATURE_NAMES = tuple(f.name for f in FEATURES)
# What the product model may use: features readable from Asana at prediction time.
ASANA_FEATURES = tuple(f.name for f in FEATURES if f.source == ASANA)
# Calendar dates as such: a model trained on the past meets only later dates, which its trees
# lump into the last bin they saw, so these help a random split and not the future (issue 22:
# without them the boosted trees' F1 on the inner time-ordered validation rose with both feature
# sets, AUC unchanged, and the blend's tied; see the README's delay-risk section).
ABSOLUTE_DATES = ("opened_day", "due_day")
# The product model's features: the Asana-readable ones, less the absolute dates and the
# candidate history features that lost on the inner split (issue 22 kept the overdue counts).
PRODUCT_FEATURES = tuple(
    n
    for n in ASANA_FEATURES
    if n not in ABSOLUTE_DATES and (n not in CANDIDATE_FEATURES or n in OVERDUE_FEATURES)
)
BY_NAME = {f.name: f for f in FEATURES}
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


def encode(
    records: Sequence[Mapping[str, Any]], vocab: Vocabulary, names: Sequence[str] = FEATURE_NAMES
) -> np.ndarray:
    """Rows with one column per name in `names` (missing values as NaN, which the model handles)."""
    chosen = [BY_NAME[n] for n in names]
    out = np.empty((len(records), len(chosen)), dtype=float)
    for i, r in enumerate(records):
        for j, f in enumerate(chosen):
            out[i, j] = vocab.code(f.name, r.get(f.name)) if f.categorical else _number(r.get(f.name))
    return out
