"""The feedback rules, pure: what a reply or a field change says, corrected points, adaptive
thresholds (bounded, with a minimum count) and the suppression of repeatedly rejected kinds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agents.proposal import Action, ActionKind, Proposal, Scope
from tools.feedback.classify import field_verdict, reply_kind, stated_points
from tools.feedback.corrections import corrected_points
from tools.feedback.models import DecisionOutcome, FeedbackItem, FeedbackKind, Verdict
from tools.feedback.suppression import DEFAULT_RULE, apply_suppression, held_kinds, hold_back
from tools.feedback.thresholds import AT_RISK_RULE, DELAY_RULE, adapt, signals

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def test_reply_kinds_and_points() -> None:
    assert reply_kind("👎") is FeedbackKind.THUMBS_DOWN_COMMENT
    assert reply_kind("👎🏽 not at risk at all") is FeedbackKind.THUMBS_DOWN_COMMENT
    assert reply_kind("WRONG, it's 8 points") is FeedbackKind.WRONG_COMMENT
    assert reply_kind("  wrong.") is FeedbackKind.WRONG_COMMENT
    assert reply_kind("this is wrongheaded") is None and reply_kind("wrongly") is None
    assert reply_kind("looks good 👍") is None and reply_kind("") is None
    assert stated_points("wrong, it's 8 points") == 8.0
    assert stated_points("Wrong — should be 5") == 5.0
    assert stated_points("wrong: 13 pts") == 13.0
    assert stated_points("wrong") is None
    assert stated_points("wrong, 5000 points") is None  # beyond any sane scale: not a correction


def test_field_verdicts() -> None:
    assert field_verdict("Risk Score", 20, 80) is Verdict.MISS
    assert field_verdict("Risk Score", None, 70) is Verdict.MISS
    assert field_verdict("Risk Score", 80, 10) is Verdict.FALSE_ALARM
    assert field_verdict("Risk Score", 60, 90) is Verdict.CORRECTION
    assert field_verdict("Estimated Story Points", 3, 8) is Verdict.CORRECTION
    assert field_verdict("Impediments", "[2026-12-01] blocked by X", None) is Verdict.FALSE_ALARM


def _item(gid: str, value: float, minutes: int, verdict: Verdict = Verdict.CORRECTION) -> FeedbackItem:
    return FeedbackItem(
        kind=FeedbackKind.FIELD_CORRECTED,
        verdict=verdict,
        created_at=NOW + timedelta(minutes=minutes),
        task_gid=gid,
        field="Estimated Story Points",
        corrected=value,
    )


def test_newest_correction_wins() -> None:
    items = [_item("1", 5, 0), _item("1", 8, 10), _item("2", 3, 5), _item("3", 0, 1)]
    assert corrected_points(items) == {"1": 8.0, "2": 3.0}


def _signal(verdict: Verdict, agent: str | None = None, field: str | None = None) -> FeedbackItem:
    return FeedbackItem(
        kind=FeedbackKind.WRONG_COMMENT if field is None else FeedbackKind.FIELD_CORRECTED,
        verdict=verdict,
        created_at=NOW,
        agent=agent,
        field=field,
    )


def test_threshold_needs_a_minimum_count_then_moves_bounded() -> None:
    two = adapt(0.70, 2, 0, DELAY_RULE)
    assert two.value == 0.70 and not two.moved and "moves after 3" in two.note()
    four = adapt(0.70, 4, 0, DELAY_RULE)
    assert four.value == 0.62
    assert four.note() == "delay-risk threshold 0.62 (was 0.70): 4 confirmed misses in 30 days"
    assert adapt(0.70, 40, 0, DELAY_RULE).value == 0.55  # at most max_shift (0.15) from the base
    assert adapt(0.10, 40, 0, DELAY_RULE).value == 0.05  # and never below lo
    assert adapt(0.70, 0, 5, DELAY_RULE).value == 0.80  # false alarms raise it
    assert adapt(0.70, 3, 3, DELAY_RULE).value == 0.70  # they cancel out
    # The stand-up horizon flags more when it grows: misses widen it, by whole working days.
    assert adapt(2, 4, 0, AT_RISK_RULE).value == 4
    assert adapt(2, 0, 4, AT_RISK_RULE).value == 0
    assert adapt(2, 30, 0, AT_RISK_RULE).value == 5  # base + 3 at most


def test_signals_count_only_the_agents_own_flag_replies() -> None:
    items = [
        _signal(Verdict.FALSE_ALARM, agent="standup"),
        _signal(Verdict.FALSE_ALARM, agent="dependencies"),
        _signal(Verdict.FALSE_ALARM, field="Risk Score"),
        _signal(Verdict.MISS, field="Risk Score"),
        _signal(Verdict.DISAGREE, agent="dependencies"),
    ]
    assert signals(items, DELAY_RULE) == (1, 2)
    assert signals(items, AT_RISK_RULE) == (1, 2)


def _outcome(n: int, rejected: bool, days_ago: float, kind: str = "update_task") -> DecisionOutcome:
    return DecisionOutcome(
        proposal_id=f"p{n}",
        project_gids=("100",),
        action_kind=kind,
        rejected=rejected,
        decided_at=NOW - timedelta(days=days_ago),
    )


def test_three_of_five_rejected_holds_the_kind_until_an_approval_or_decay() -> None:
    two = [_outcome(1, True, 3), _outcome(2, True, 2), _outcome(3, False, 4)]
    assert held_kinds(two, NOW) == {}
    three = [*two, _outcome(4, True, 1)]
    held = held_kinds(three, NOW)
    assert set(held) == {("100", "update_task")}
    assert held[("100", "update_task")].rejected == 3
    # A later approval lifts it at once.
    assert held_kinds([*three, _outcome(5, False, 0.5)], NOW) == {}
    # Decay: once the third-newest rejection is older than the window, it lifts by itself.
    lift = held[("100", "update_task")].until
    assert held_kinds(three, lift + timedelta(minutes=1)) == {}
    # Other kinds and projects are not affected.
    assert held_kinds([_outcome(i, True, 1, kind="post_comment") for i in range(3)], NOW).keys() == {
        ("100", "post_comment")
    }


def _proposal() -> Proposal:
    return Proposal(
        agent="dependencies",
        scope=Scope(workspace_gid="1", project_gids=["100"]),
        title="t",
        summary_markdown="## Dependency check",
        actions=[
            Action(kind=ActionKind.SET_CUSTOM_FIELD, target="7", params={"field": "Risk Score", "value": 80}),
            Action(kind=ActionKind.UPDATE_TASK, target="7", params={"due_on": "2026-12-09"}),
            Action(kind=ActionKind.CREATE_TASK, ref="t", params={"name": "x"}),
            Action(kind=ActionKind.POST_COMMENT, target="ref:t", params={"text": "hi"}),
        ],
    )


class _Source:
    def __init__(self, outcomes: list[DecisionOutcome]) -> None:
        self.outcomes = outcomes

    def items(self, **_: object) -> list[FeedbackItem]:
        return []

    def decision_outcomes(self, **_: object) -> list[DecisionOutcome]:
        return self.outcomes


def test_hold_back_leaves_the_kind_out_and_says_so() -> None:
    rejected = [_outcome(i, True, 1) for i in range(3)]
    held = hold_back(_proposal(), held_kinds(rejected, NOW))
    assert [a.kind for a in held.actions] == [
        ActionKind.SET_CUSTOM_FIELD,
        ActionKind.CREATE_TASK,
        ActionKind.POST_COMMENT,
    ]
    assert "Held back after repeated rejections" in held.summary_markdown
    assert "update_task held back in project 100: 3 of the last 3 were rejected" in held.summary_markdown
    assert held.evidence["feedback_suppressed"]["kinds"] == ["update_task"]
    # An action using a held-back action's ref goes with it.
    tasks = [_outcome(i, True, 1, kind="create_task") for i in range(3)]
    dropped = hold_back(_proposal(), held_kinds(tasks, NOW))
    assert [a.kind for a in dropped.actions] == [ActionKind.SET_CUSTOM_FIELD, ActionKind.UPDATE_TASK]
    # Explicit requests are answered in full; unsolicited runs obey the rule.
    source = _Source(rejected)
    assert apply_suppression(_proposal(), source, trigger="cli", now=NOW).actions == _proposal().actions
    assert len(apply_suppression(_proposal(), source, trigger="event", now=NOW).actions) == 3
    assert DEFAULT_RULE.min_rejected == 3 and DEFAULT_RULE.last == 5
