"""Benchmark: retro analysis time at 300, 1,000 and 3,000 sprint items, against the former
(per-theme re-scoring) analysis measured in the same run.

Issue 23's goal: retro compute linear in the sprint's changes, 3,000 items < 0.5 s. The sprint is
generated (`synthetic_inputs`, seeded): ~2 comments, ~2 workflow transitions and some due-date
moves per item, distinct texts (the sentiment engine scores each distinct text once, so repeated
texts would flatter the new code), one earlier sprint read from its comments. The reference is
the analysis as it was before issue 23 (`reference_analyse`): every theme re-scored its texts'
sentiment (twice: mean and quote order), the mood scored every comment again, an earlier sprint's
theme names came from a full theme analysis, and each proposed action's owner re-normalised
every text. Both give the same `RetroAnalysis` (tests/retro/test_analysis_linear.py).

With a saved trained engine (`--engine F`, or $SPRINTPILOT_SENTIMENT_MODEL) the new analysis is
also timed with it: it scores all of a retro's texts in one batch.

Run: python -m evals.bench_retro [--sizes 300,1000,3000] [--repeat 3] [--engine F]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from unittest import mock

from agents.retro.analysis import RetroAnalysis, _texts, analyse
from agents.retro.inputs import OpenActionItem, PreviousSprint, RetroInputs
from tools.asana.models import Project
from tools.retro.models import Comment, DueChange, RetroItem, SprintWindow, Transition
from tools.retro.themes import CATALOGUE, QUOTES_PER_THEME, TextRef, Theme, _norm, _quote
from tools.sentiment.engine import MODEL_ENV, engine_choice
from tools.sentiment.model import LexiconSentiment

GOAL_ITEMS = 3000
GOAL_SECONDS = 0.5
WINDOW = SprintWindow(name="Sprint 23", start_on=date(2026, 11, 9), end_on=date(2026, 11, 20))
COMMENTS = (
    "Great work, thanks for pairing on this!",
    "Blocked by the payments API team, waiting on their fix",
    "The staging environment is down again, annoying",
    "Flaky test failed the build twice",
    "Requirements are unclear, need acceptance criteria",
    "This took longer than the estimate, scope grew",
    "Waiting for review on the pull request",
    "Found a regression, hotfix shipped",
    "Shipped and released smoothly",
    "Interrupted by a support ticket again",
    "pushed a patch",
)
NOTES = ("", "Fix the flaky test in CI", "Unclear requirements from design", "Add the export")
STATES = ("In Progress", "Review", "Blocked", "Done", "To Do")


def synthetic_inputs(n_items: int, seed: int = 0) -> RetroInputs:
    """A finished sprint of `n_items` items with comments, transitions and due moves (seeded)."""
    rng = random.Random(seed)
    start = datetime.combine(WINDOW.start_on, datetime.min.time(), tzinfo=UTC)
    people = [f"u{i}" for i in range(max(3, n_items // 25))]

    def at() -> datetime:
        return start + timedelta(hours=rng.randint(-24, 14 * 24))

    items: list[RetroItem] = []
    for i in range(n_items):
        gid = str(30000 + i)
        completed = rng.random() < 0.65
        transitions = [
            Transition(
                at=at(),
                field=rng.choice(("section", "status")),
                old=rng.choice(STATES),
                new=rng.choice(STATES),
            )
            for _ in range(rng.randint(0, 4))
        ]
        comments = [
            Comment(
                at=at(),
                author=f"Dev {rng.randint(0, 9)}",
                text=f"{rng.choice(COMMENTS)} (#{i}.{k})",
                task_gid=gid,
            )
            for k in range(rng.randint(0, 4))
        ]
        dues = [
            DueChange(
                at=at(),
                old=WINDOW.start_on + timedelta(days=rng.randint(0, 9)),
                new=WINDOW.start_on + timedelta(days=rng.randint(0, 13)),
            )
            for _ in range(rng.choice((0, 0, 1, 2)))
        ]
        items.append(
            RetroItem(
                gid=gid,
                name=f"Story {i}",
                notes=rng.choice(NOTES) + f" [{i}]",
                points=rng.choice((None, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0)),
                assignee_gid=rng.choice(people) if rng.random() > 0.1 else None,
                completed=completed,
                completed_at=at() + timedelta(days=2) if completed and rng.random() > 0.05 else None,
                added_at=at() if rng.random() < 0.3 else None,
                due_on=WINDOW.start_on + timedelta(days=rng.randint(0, 15)) if rng.random() > 0.2 else None,
                transitions=sorted(transitions, key=lambda t: t.at),
                due_changes=dues,
                comments=sorted(comments, key=lambda c: c.at),
                status=rng.choice((None, "In Progress", "Blocked", "Done")),
            )
        )
    earlier: list[tuple[str, str | None, str | None]] = [
        (f"{rng.choice(COMMENTS)} (old {k})", str(k), f"Old {k}") for k in range(n_items // 2)
    ]
    return RetroInputs(
        workspace_gid="1",
        project=Project(gid="1000", name=WINDOW.name),
        window=WINDOW,
        items=items,
        previous=[PreviousSprint(name="Sprint 22", themes=["Flaky or failing tests"], source="retro task")],
        previous_texts={"Sprint 21": earlier},
        scrum_master_gid="u0",
        today=date(2026, 11, 21),
        open_items=[OpenActionItem(gid="77", name="Quarantine flaky UI tests")],
    )


# --- The analysis as it was before issue 23, kept to measure against (same run, same inputs). ---


def _reference_find_themes(texts: list[TextRef], min_count: int = 2, **_ignored: object) -> list[Theme]:
    """Former `find_themes`: each theme scored its texts' sentiment twice (mean and quote order)."""
    lex = LexiconSentiment()
    hits: dict[str, list[TextRef]] = defaultdict(list)
    for ref in texts:
        low = _norm(ref.text)
        for name, (_, stems) in CATALOGUE.items():
            if any(stem in low for stem in stems):
                hits[name].append(ref)
    themes = []
    for name, refs in hits.items():
        if len(refs) < min_count:
            continue
        scores = [lex.analyse(r.text).score for r in refs]
        kind = CATALOGUE[name][0]
        ranked = sorted(
            refs,
            key=lambda r: (
                r.source != "comment",
                (lex.analyse(r.text).score if kind == "problem" else -lex.analyse(r.text).score),
                r.text,
            ),
        )
        quotes: list[str] = []
        for r in ranked:
            q = _quote(r.text)
            if q not in quotes:
                quotes.append(q)
            if len(quotes) == QUOTES_PER_THEME:
                break
        themes.append(
            Theme(
                name=name,
                kind=kind,
                count=len(refs),
                tasks=len({r.task_gid for r in refs if r.task_gid}),
                sentiment=round(sum(scores) / len(scores), 2),
                quotes=quotes,
            )
        )
    themes.sort(key=lambda t: (-t.count, t.name))
    return themes


def _reference_previous_themes(inputs: RetroInputs) -> dict[str, list[str]]:
    out = {p.name: p.themes for p in inputs.previous}
    for name, texts in inputs.previous_texts.items():
        refs = [TextRef(text=t, source="comment", task_gid=g, task_name=n) for t, g, n in texts]
        out[name] = [t.name for t in _reference_find_themes(refs)]
    return out


def _reference_owner(theme: Theme, inputs: RetroInputs, texts: list[TextRef]) -> str | None:
    stems = CATALOGUE[theme.name][1]
    by_gid = {it.gid: it for it in inputs.items}
    counts: Counter[str] = Counter()
    for ref in texts:
        low = " " + " ".join(ref.text.lower().split()) + " "
        it = by_gid.get(ref.task_gid or "")
        if it and it.assignee_gid and any(s in low for s in stems):
            counts[it.assignee_gid] += 1
    if counts:
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return inputs.scrum_master_gid


def reference_analyse(inputs: RetroInputs) -> RetroAnalysis:
    """`analyse` with the former hot spots swapped back in: per-theme re-scoring, a fresh mood
    scoring, full theme analyses of earlier sprints and, per proposed action, a scan of every text
    for its owner."""
    from tools.retro.mood import sprint_mood

    with mock.patch.multiple(
        "agents.retro.analysis",
        find_themes=_reference_find_themes,
        _previous_themes=_reference_previous_themes,
        theme_hits=lambda texts: {},
        _owners=lambda themes, inputs, hits: {
            t.name: _reference_owner(t, inputs, _texts(inputs)) for t in themes
        },
        sprint_mood=lambda comments, window, model=None: sprint_mood(comments, window),
    ):
        return analyse(inputs)


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall and best process-CPU seconds of `repeat` runs (CPU time is what a loaded machine
    distorts least)."""
    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="300,1000,3000", help="sprint sizes (items), comma-separated")
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure (the best is kept)")
    ap.add_argument(
        "--engine",
        type=Path,
        default=None,
        help="a saved sentiment engine to time as well (default: $SPRINTPILOT_SENTIMENT_MODEL if set)",
    )
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",") if s.strip()]
    choice = engine_choice(a.engine) if a.engine or os.environ.get(MODEL_ENV) else None
    trained = choice.engine if choice is not None and choice.name != "lexicon" else None
    print("Retro analysis (agents/retro/analysis.py analyse), best of", a.repeat, "- wall s / process CPU s")
    print(f"goal: {GOAL_ITEMS:,} items < {GOAL_SECONDS} s (default engine: lexicon)")
    head = "| items | comments | reference s (CPU) | new s (CPU) | × faster | same result |"
    rule = "|---:|---:|---:|---:|---:|---|"
    if trained is not None:
        head += f" {trained.name} s (CPU) |"
        rule += "---:|"
    print(head)
    print(rule)
    at_goal: float | None = None
    for n in sizes:
        inputs = synthetic_inputs(n, seed=1)
        ref, ref_cpu = _best(partial(reference_analyse, inputs), a.repeat)
        new, new_cpu = _best(partial(analyse, inputs), a.repeat)
        same = reference_analyse(inputs).model_dump_json() == analyse(inputs).model_dump_json()
        comments = sum(len(i.comments) for i in inputs.items)
        verdict = "yes" if same else "NO"
        row = (
            f"| {n:,} | {comments:,} | {ref:.3f} ({ref_cpu:.3f}) | {new:.3f} ({new_cpu:.3f}) "
            f"| {ref / new:.1f} | {verdict} |"
        )
        if trained is not None:
            t, t_cpu = _best(partial(analyse, inputs, trained), a.repeat)
            row += f" {t:.3f} ({t_cpu:.3f}) |"
        print(row)
        if n == GOAL_ITEMS:
            at_goal = new
    if at_goal is not None:
        verdict = "OK" if at_goal < GOAL_SECONDS else "MISSED"
        print(f"goal: {GOAL_ITEMS:,} items < {GOAL_SECONDS} s: {at_goal:.3f} s wall {verdict}")
    if choice is not None and choice.warning:
        print(f"note: {choice.warning}")


if __name__ == "__main__":
    main()
