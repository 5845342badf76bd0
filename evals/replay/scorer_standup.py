"""Replay scorer "standup": does the mid-sprint stand-up flag the tasks that really end up unfinished?

At the morning of the mid-sprint day (day ⌊L/2⌋ of an L-day sprint, before that day's events) the
stand-up runs on the sprint project. Population = the sprint's open tasks at that moment; truth =
those that did not get completed in the sprint (not completed, punted, or completed in another
sprint). Flagged = the tasks in its evidence's `at_risk` list (any kind). Precision and recall are
micro-averaged over sprints. The shared helpers here also serve the "risk" scorer.

Naive baselines, on the same population:
- every open task is at risk (recall 1 by construction; its precision is the base rate);
- the largest open tasks by story points, as many as the predictor flagged in that sprint
  (size-matched, so its precision compares directly with the predictor's).
A third row, "started (In Progress) at mid-sprint", shows what the converter's derived start days
say on their own (they are not in the data; see evals/recorded/FORMAT.md): a completed issue starts
on a hashed day before it closes, an unfinished one anywhere in the rest of the sprint, so no
outcome is planted in the sections.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from evals.replay.observations import OpenTask, SprintObservation
from evals.replay.scorers import Observations, ScoreSection, Table, precision_recall, r, register_scorer
from tools.scorecard.metrics import FlagTally

Flagger = Callable[[SprintObservation], set[str] | None]


def largest(tasks: Sequence[OpenTask], k: int) -> set[str]:
    ranked = sorted(tasks, key=lambda t: (-(t.points or 0.0), t.task))
    return {t.task for t in ranked[:k]}


class Tally(FlagTally):
    """Micro-averaged hits over sprints for one predictor (the live scorecard's tally, named)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def row(self) -> list[object]:
        return [
            self.name,
            self.sprints,
            self.flagged,
            self.hits,
            r(self.precision),
            r(self.recall),
            r(self.f1),
        ]


COLUMNS = ["predictor", "sprints", "flagged", "flagged & unfinished", "precision", "recall", "F1"]


def at_risk_section(
    obs: Observations, *, name: str, title: str, label: str, flag: Flagger, notes: list[str]
) -> ScoreSection:
    """Score `flag` (None = not run for that sprint) against the naive baselines."""
    agent, everything, biggest, started = (
        Tally(label),
        Tally("naive: every open task"),
        Tally("naive: largest open tasks (same count)"),
        Tally("derived start days alone: started (In Progress) at mid-sprint"),
    )
    per_sprint: list[list[object]] = []
    errors = 0
    for o in sorted(obs, key=lambda o: o.sequence):
        flagged = flag(o)
        a = o.agents
        if a is None or a.mid_day is None:
            continue  # not run for this sprint
        if flagged is None:
            errors += 1
            continue
        open_ids = {t.task for t in a.open_tasks}
        truth = {t.task for t in a.open_tasks if t.failed}
        mine = flagged & open_ids
        agent.add(mine, truth)
        everything.add(open_ids, truth)
        biggest.add(largest(a.open_tasks, len(mine)), truth)
        started.add({t.task for t in a.open_tasks if t.started}, truth)
        p, rc, hits = precision_recall(mine, truth)
        per_sprint.append([o.name, a.mid_day, len(open_ids), len(truth), len(mine), hits, r(p), r(rc)])
    tallies = [agent, everything, biggest, started]
    return ScoreSection(
        name=name,
        title=title,
        notes=[
            *notes,
            "Population: the sprint's open tasks on the mid-sprint morning (day ⌊L/2⌋, before that day's "
            "events); truth: not completed in the sprint (not completed, punted or completed in another "
            "sprint). Micro-averaged over sprints.",
            "Baselines: every open task (recall 1, precision = base rate); the largest open tasks by story "
            "points, as many as the predictor flagged that sprint (size-matched). The 'started' row "
            "shows the derived start days on their own (start days are not in the data: a finished issue "
            "starts on a hashed day before it closes, an unfinished one anywhere in the rest of the "
            "sprint).",
            f"Scored {agent.sprints} of {len(obs)} sprints; {errors} run(s) without a result.",
        ],
        metrics=Table(
            title="Unfinished tasks among those flagged at mid-sprint",
            columns=COLUMNS,
            rows=[t.row() for t in tallies],
        ),
        tables=[
            Table(
                title="Per sprint",
                columns=["sprint", "day", "open", "unfinished", "flagged", "hits", "precision", "recall"],
                rows=per_sprint,
            )
        ],
        summary={
            "sprints": agent.sprints,
            "run_errors": errors,
            "flagged": agent.flagged,
            "precision": r(agent.precision),
            "recall": r(agent.recall),
            "f1": r(agent.f1),
            "base_rate": r(everything.precision),
            "largest_precision": r(biggest.precision),
            "largest_recall": r(biggest.recall),
            "started_precision": r(started.precision),
            "started_recall": r(started.recall),
        },
    )


def standup_flags(o: SprintObservation) -> set[str] | None:
    s = o.agents.standup if o.agents else None
    if s is None or s.error is not None:
        return None
    return set(s.flagged)


@register_scorer("standup")
def score_standup(obs: Observations) -> ScoreSection:
    kinds: dict[str, int] = {}
    for o in obs:
        s = o.agents.standup if o.agents else None
        for ks in s.flagged.values() if s else []:
            for k in ks:
                kinds[k] = kinds.get(k, 0) + 1
    section = at_risk_section(
        obs,
        name="standup",
        title="Stand-up at-risk flags (mid-sprint)",
        label="stand-up: flagged at risk (any kind)",
        flag=standup_flags,
        notes=[
            "The stand-up runs through the supervisor graph on the sprint project (no chart, no nudges: "
            "neither changes its at-risk list); flagged = its evidence's at_risk tasks.",
            "Flag kinds seen: "
            + (", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "none")
            + ". The recordings have no due dates, so overdue/due_soon cannot fire; not_started, "
            "unestimated and capacity can (tools/standup/risk.py).",
        ],
    )
    return section
