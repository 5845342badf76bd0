"""Replay scorer "retro": the retro's commitment numbers must equal the recording's outcome exactly.

The retro runs the morning after the last sprint day on the sprint project. Its numbers
(tools/retro/metrics.py `commitment`) are compared, per sprint and per metric, with the recorded
outcome restated on the retro's definitions (evals.replay.sprint_agents.retro_truth):

- punted issues were taken out of the sprint project, so the retro never sees them: they are in
  none of the compared numbers (reported beside, from the outcome);
- carry-over = items still in the sprint and open at its end = the outcome's not-completed plus
  completed-in-another-sprint items (Jira counts both as not completed within the sprint);
- committed = members that were in the sprint at its start (less punted ones), added = members that
  joined later; the retro's points are current estimates, so both use final story points;
- completed points = the sprint report's own sum (`outcome.completed_points`), not a re-derivation.
"""

from __future__ import annotations

from evals.replay.observations import RetroNumbers, RetroObservation, RetroTruth
from evals.replay.scorers import Observations, ScoreSection, Table, r, register_scorer

METRICS = list(RetroNumbers.model_fields)
EPS = 1e-9


def _cause(metric: str, retro: RetroObservation, truth: RetroTruth) -> str:
    early = sorted(set(retro.completed) & set(truth.closed_before_start) - set(truth.completed))
    if early and metric != "added_points":
        return (
            f"{', '.join(early)} closed in an earlier sprint (before this one started) counts as completed "
            "here: tools/retro/metrics.py completed_in has no lower bound on completed_at"
        )
    if "points" in metric and truth.unrepresentable_points:
        return (
            f"fractional points of {', '.join(truth.unrepresentable_points)}: the recording's Story Points "
            "field has precision 0 (converter FIELDS), so the sandbox rounds them"
        )
    got = (retro.numbers.completed_points if retro.numbers else None) == truth.completed_points_items
    if metric == "completed_points" and got:
        return (
            f"recording: completed items' final points sum to {truth.completed_points_items:g}, the sprint "
            f"report says {truth.completed_points_report:g} (converter)"
        )
    return "retro ≠ recording"


@register_scorer("retro")
def score_retro(obs: Observations) -> ScoreSection:
    matches = dict.fromkeys(METRICS, 0)
    mismatches: list[list[object]] = []
    errors: list[list[object]] = []
    scored = all_match = sets_match = 0
    punted_items = 0
    for o in sorted(obs, key=lambda o: o.sequence):
        a = o.agents
        if a is None or a.retro is None or a.retro_truth is None:
            continue
        if a.retro.numbers is None:
            errors.append([o.name, a.retro.status, a.retro.error])
            continue
        scored += 1
        truth = a.retro_truth
        got, want = a.retro.numbers.model_dump(), truth.numbers.model_dump()
        ok = True
        for m in METRICS:
            if abs(float(got[m]) - float(want[m])) < EPS:
                matches[m] += 1
                continue
            ok = False
            mismatches.append(
                [o.name, m, got[m], want[m], r(float(got[m]) - float(want[m])), _cause(m, a.retro, truth)]
            )
        all_match += ok
        same = (
            a.retro.completed == truth.completed
            and a.retro.carry_over == truth.carry_over
            and a.retro.added == truth.added
        )
        sets_match += same
        if not same:
            mismatches.append([o.name, "item sets", "", "", None, "completed/carry-over/added ids differ"])
        punted_items += truth.punted_items
    rows = [[m.replace("_", " "), scored, matches[m], scored - matches[m]] for m in METRICS]
    rows.append(["all eight numbers", scored, all_match, scored - all_match])
    rows.append(["item ids (completed, carry-over, added)", scored, sets_match, scored - sets_match])
    return ScoreSection(
        name="retro",
        title="Retro numbers vs the recorded outcome",
        notes=[
            "The retro runs through the supervisor graph the morning after the sprint's last day; its "
            "status update applies in the sandbox, its retro task and action items wait for approval.",
            "Definitions (the retro's, applied to the outcome): punted issues left the sprint project, so "
            f"they are in none of the numbers ({punted_items} punted items over these sprints); carry-over "
            "= not completed + completed in another sprint; committed = in the sprint at its start, "
            "added = joined later (from the added_to_project story the replay writes); points = final "
            "estimates, completed points = the sprint report's sum. Exact match required.",
            f"Scored {scored} of {len(obs)} sprints; {len(errors)} retro run(s) without numbers.",
        ],
        metrics=Table(
            title="Sprints whose retro number equals the outcome exactly",
            columns=["metric", "sprints", "exact", "mismatched"],
            rows=rows,
        ),
        tables=[
            Table(
                title="Mismatches",
                columns=["sprint", "metric", "retro", "outcome", "diff", "cause"],
                rows=mismatches,
            ),
            *(
                [
                    Table(
                        title="Retro runs without numbers", columns=["sprint", "status", "error"], rows=errors
                    )
                ]
                if errors
                else []
            ),
        ],
        summary={
            "sprints": scored,
            "all_match": all_match,
            "item_sets_match": sets_match,
            "run_errors": len(errors),
            **{f"{m}_exact": matches[m] for m in METRICS},
        },
    )
