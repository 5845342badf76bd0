"""Repeat detection at the shared mechanism (graphs/repeats.py): the policy node drops a write whose
facts another proposal already applied, the executor refuses one that was applied while this
proposal waited, a proposal's own retries are never taken for repeats, and the daily write budget
holds automatic writes back."""

from __future__ import annotations

import uuid
from typing import Any

from agents.proposal import Action, ActionKind
from graphs.policy_config import PolicyConfig
from graphs.ports import LedgerStatus
from graphs.repeats import content_key, fact_key
from graphs.runner import resume_run, start_run
from tests.graphs.conftest import T1, T2, World


def comment(text: str = "Estimate: 5 points (3–8)", **kw: Any) -> Action:
    return Action(kind=ActionKind.POST_COMMENT, target=T1, params={"text": text}, reason="triage", **kw)


def due_shift() -> Action:
    return Action(
        kind=ActionKind.UPDATE_TASK,
        target=T1,
        params={"due_on": "2026-12-10"},
        before={"due_on": "2026-12-01"},
        reason="slip",
    )


def run(world: World, **ctx: Any) -> Any:
    return start_run(world.graph, world.ctx(**ctx), uuid.uuid4().hex, {"agent": "fake_planner"})


def comments_on(world: World, gid: str) -> list[str]:
    return [s.text or "" for s in world.asana.story_log.get(gid, [])]


def test_the_same_comment_is_not_posted_by_a_second_run(world: World) -> None:
    world.set_actions(lambda: [comment()])
    first = run(world)
    assert first.report["status"] == "applied"
    second = run(world)
    assert second.report["status"] == "empty"
    assert len(comments_on(world, T1)) == 1
    stored = [r["proposal"] for r in world.repo.proposals.values()][-1]
    assert stored.evidence["quiet"]["repeats"]
    assert "already in Asana" in stored.summary_markdown


def test_facts_not_wording_decide_what_is_a_repeat(world: World) -> None:
    world.set_actions(
        lambda: [comment("Nudge for Ana (as of 09:00)", facts={"nudge": "ana", "day": "2026-11-20"})]
    )
    run(world)
    world.set_actions(
        lambda: [comment("Nudge for Ana (as of 11:00)", facts={"nudge": "ana", "day": "2026-11-20"})]
    )
    run(world)
    assert len(comments_on(world, T1)) == 1
    world.set_actions(
        lambda: [comment("Nudge for Ana (as of 09:00)", facts={"nudge": "ana", "day": "2026-11-21"})]
    )
    run(world)
    assert len(comments_on(world, T1)) == 2


def test_changed_facts_are_written(world: World) -> None:
    world.set_actions(lambda: [comment("Estimate: 5 points")])
    run(world)
    world.set_actions(lambda: [comment("Estimate: 8 points")])
    run(world)
    assert len(comments_on(world, T1)) == 2


def test_a_repeat_applied_while_a_proposal_waited_is_not_written_on_approval(world: World) -> None:
    # Two runs racing: both propose the same comment next to a change needing approval.
    world.set_actions(lambda: [due_shift(), comment()])
    policy = PolicyConfig(auto_kinds=frozenset({ActionKind.CREATE_APPROVAL_TASK}))
    a, b = uuid.uuid4().hex, uuid.uuid4().hex
    asks = {}
    for thread in (a, b):
        out = start_run(world.graph, world.ctx(policy=policy), thread, {"agent": "fake_planner"})
        assert out.status == "awaiting_approval"
        assert out.interrupt is not None
        asks[thread] = [{"type": "approve"} for _ in out.interrupt["action_requests"]]
    resume_run(world.graph, world.ctx(policy=policy), a, asks[a], "alice")
    resume_run(world.graph, world.ctx(policy=policy), b, asks[b], "alice")
    assert len([c for c in comments_on(world, T1) if "Estimate" in c]) == 1
    settled = [
        e
        for e in world.journal.entries.values()
        if e.thread_id == b and e.kind == "post_comment" and e.target == T1
    ]
    assert [e.status for e in settled] == [LedgerStatus.DONE]
    assert "not written again" in str((settled[0].result or {}).get("message"))


def test_a_proposal_is_not_a_repeat_of_itself() -> None:
    action = comment()
    assert fact_key(action) == content_key(action)
    assert fact_key(Action(kind=ActionKind.POST_COMMENT, target="ref:kickoff", params={"text": "x"})) is None
    assert fact_key(comment(facts={"a": 1})) == fact_key(comment("other words", facts={"a": 1}))


def test_the_daily_write_budget_holds_back_automatic_writes_only(world: World) -> None:
    world.set_actions(
        lambda: [
            comment("one"),
            comment("two"),
            comment("three"),
            Action(
                kind=ActionKind.SET_CUSTOM_FIELD, target=T2, params={"field": "AI Priority Score", "value": 7}
            ),
        ]
    )
    out = run(world, policy=PolicyConfig(daily_write_budget=2))
    assert out.report["status"] == "applied"
    assert len(comments_on(world, T1)) == 2
    stored = [r["proposal"] for r in world.repo.proposals.values()][-1]
    assert len(stored.evidence["quiet"]["held_back"]) == 2
    assert "held back" in stored.summary_markdown
    # The budget is spent for today: the next run holds everything automatic back.
    world.set_actions(lambda: [comment("four")])
    run(world, policy=PolicyConfig(daily_write_budget=2))
    assert len(comments_on(world, T1)) == 2
    assert all(e.status != LedgerStatus.PENDING for e in world.journal.entries.values())
