"""Retro analysis is linear in the sprint's texts and its output did not change (issue 23).

The sprints are generated (evals/bench_retro.py `synthetic_inputs`, seeded). The digests were
recorded from `analyse` before the change (each theme re-scored its texts' sentiment, the mood
scored every comment again, earlier sprints got a full theme analysis, each action's owner
re-normalised every text); the benchmark keeps that analysis as its reference.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime

import pytest

from agents.retro.analysis import analyse
from evals.bench_retro import reference_analyse, synthetic_inputs
from tools.retro.models import Comment
from tools.retro.themes import TextRef, find_themes, theme_names
from tools.sentiment.model import LexiconSentiment, SentimentScore

W_AT = datetime(2026, 11, 12, 10, tzinfo=UTC)
# (items, seed) → sha256 of the RetroAnalysis's JSON (16 hex digits).
PINNED = {
    (40, 1): "702af361fab3b77f",
    (150, 2): "3c8fd1585c4105fb",
    (400, 3): "754127f7fee58bff",
}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@pytest.mark.parametrize(("size", "seed"), sorted(PINNED))
def test_output_is_byte_identical_to_the_former_analysis(size: int, seed: int) -> None:
    a = analyse(synthetic_inputs(size, seed=seed))
    assert _digest(a.model_dump_json()) == PINNED[(size, seed)]
    # Themes, recurring ones, owners other than the scrum master, mood and blockers all exercised.
    assert any(t.recurring for t in a.themes) and a.mood.comments and a.blockers
    if size >= 150:
        assert {x.owner_gid for x in a.actions} - {None, "u0"}


@pytest.mark.parametrize("seed", [4, 5])
def test_same_result_as_the_reference_analysis(seed: int) -> None:
    inputs = synthetic_inputs(200, seed=seed)
    assert analyse(inputs).model_dump_json() == reference_analyse(inputs).model_dump_json()


def test_each_distinct_text_is_scored_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: a comment was scored for the mood, then twice more per theme it belongs to."""
    calls: Counter[str] = Counter()
    original = LexiconSentiment.analyse

    def counting(self: LexiconSentiment, text: str) -> SentimentScore:
        calls[text] += 1
        return original(self, text)

    monkeypatch.setattr(LexiconSentiment, "analyse", counting)
    inputs = synthetic_inputs(300, seed=6)
    analyse(inputs)
    comments = {c.text for i in inputs.items for c in i.comments}
    assert comments <= set(calls) and max(calls.values()) == 1


def test_theme_names_are_find_themes_names() -> None:
    inputs = synthetic_inputs(120, seed=7)
    rows = inputs.previous_texts["Sprint 21"]
    refs = [TextRef(text=t, source="comment", task_gid=g, task_name=n) for t, g, n in rows]
    for min_count in (1, 2, 30):
        assert theme_names(refs, min_count) == [t.name for t in find_themes(refs, min_count)]


def test_owners_agree_with_the_former_scan_on_odd_whitespace() -> None:
    """Owners now come from the themes' matches (`_norm`) instead of a second normalisation
    (split/join); both collapse whitespace runs, so texts with tabs, non-breaking spaces, line
    breaks and stems at the edges give the same owners."""
    inputs = synthetic_inputs(60, seed=8)
    odd = [
        "  the staging env\tis down ",
        "ci\u00a0fail again\n",
        "waiting\n\non review of the pr ",
        "\tflaky  test",
        "pr",
        "spec\u2003unclear; requirement missing",
    ]
    for k, item in enumerate(inputs.items[:30]):
        item.comments[:0] = [
            Comment(at=item.comments[0].at if item.comments else W_AT, text=odd[k % len(odd)])
        ]
        item.notes = odd[(k + 2) % len(odd)]
    assert analyse(inputs).model_dump_json() == reference_analyse(inputs).model_dump_json()
