"""Compute a sprint retro from its inputs: numbers, mood, themes (recurring), proposed actions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from agents.retro.inputs import OpenActionItem, RetroInputs
from tools.retro.dedupe import best_match
from tools.retro.metrics import (
    Blocker,
    Commitment,
    CycleTime,
    Deviation,
    EstimationAccuracy,
    blockers,
    commitment,
    completed_in,
    cycle_times,
    estimation_accuracy,
    timeline_deviations,
)
from tools.retro.mood import Mood, sprint_mood
from tools.retro.scoring import CachedSentiment
from tools.retro.themes import TextRef, Theme, find_themes, mark_recurring, theme_hits, theme_names
from tools.sentiment.model import LexiconSentiment

MAX_ACTIONS = 3
THEME_MIN_COUNT = 2  # texts a theme needs to be reported
CARRY_OVER_ALERT = 0.25  # share of scope points
BLOCKED_ALERT_DAYS = 2.0

# Problem theme → the improvement proposed for it.
REMEDIES: dict[str, str] = {
    "Flaky or failing tests": "Quarantine the flakiest tests and fix the top three before new work",
    "Environments and CI/CD": "Stabilise the shared environment: owner, health check and a rollback drill",
    "Blocked by dependencies or other teams": "Surface dependencies at planning; escalate blockers in a day",
    "Unclear requirements": "Agree a Definition of Ready: acceptance criteria before a story enters a sprint",
    "Estimates and scope creep": "Split stories above 8 points and freeze scope after day two",
    "Code review delays": "Set a review SLA of one working day and rotate a daily reviewer",
    "Bugs and regressions": "Add regression tests for this sprint's escaped bugs",
    "Context switching and interruptions": "Rotate one interrupt-handler per sprint to protect focus time",
}


class ProposedAction(BaseModel):
    title: str
    why: str
    owner_gid: str | None
    due_on: date
    recurring: bool = False
    # An open action item much like this one (tools/retro/dedupe.py): linked, not created again.
    existing: OpenActionItem | None = None
    similarity: float | None = None


class RetroAnalysis(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    commitment: Commitment
    cycles: list[CycleTime]
    accuracy: EstimationAccuracy
    deviations: list[Deviation]
    blockers: list[Blocker]
    mood: Mood
    themes: list[Theme]
    actions: list[ProposedAction] = Field(default_factory=list)
    # Why a configured sentiment model was not used (the mood names the engine that was); set by the
    # specialist, kept out of the dump so a lexicon retro's output is what it was before.
    sentiment_warning: str | None = Field(default=None, exclude=True)


def _texts(inputs: RetroInputs) -> list[TextRef]:
    # Validated, not `model_construct`ed: pydantic-core validates these few strings in about half
    # the time the Python-level `model_construct` takes (0.7 vs 1.7 µs a reference, measured).
    ref = TextRef
    refs: list[TextRef] = []
    for it in inputs.items:
        refs.append(ref(text=f"{it.name}. {it.notes}", source="task", task_gid=it.gid, task_name=it.name))
        refs += [ref(text=c.text, source="comment", task_gid=it.gid, task_name=it.name) for c in it.comments]
    return refs


def _previous_themes(inputs: RetroInputs) -> dict[str, list[str]]:
    out = {p.name: p.themes for p in inputs.previous}
    for name, texts in inputs.previous_texts.items():
        refs = [TextRef(text=t, source="comment", task_gid=g, task_name=n) for t, g, n in texts]
        out[name] = theme_names(refs)
    return out


def _owners(
    themes: list[Theme], inputs: RetroInputs, hits: Mapping[str, list[TextRef]]
) -> dict[str, str | None]:
    """Per theme: the assignee of most tasks where it came up (`hits`: `theme_hits` of the
    retro's texts); else the scrum master."""
    by_gid = {it.gid: it for it in inputs.items}
    out: dict[str, str | None] = {}
    for t in themes:
        counts: Counter[str] = Counter()
        for ref in hits.get(t.name, []):
            it = by_gid.get(ref.task_gid or "")
            if it and it.assignee_gid:
                counts[it.assignee_gid] += 1
        out[t.name] = (
            sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            if counts
            else inputs.scrum_master_gid
        )
    return out


def _middle_working_day(first: date, last: date) -> date:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    working = [d for d in days if d.weekday() < 5] or days
    return working[(len(working) - 1) // 2]


def action_due(inputs: RetroInputs) -> date:
    """The middle working day of the next sprint, from tomorrow on: the team has the first half
    to act and the second half for the change to show in the numbers the next retro looks at (its
    last day is that retro: an item due then is judged before it could work). The next sprint is
    the planned or active sprint project after this one, else the sprint length from today."""
    today = inputs.today or inputs.window.end_on
    tomorrow = today + timedelta(days=1)
    nxt = inputs.next_sprint
    if nxt is not None and nxt.end_on >= tomorrow:
        return _middle_working_day(max(nxt.start_on, tomorrow), nxt.end_on)
    length = (inputs.window.end_on - inputs.window.start_on).days + 1
    start = max(inputs.window.end_on, today) + timedelta(days=1)
    return _middle_working_day(start, start + timedelta(days=length - 1))


def link_open_items(actions: list[ProposedAction], open_items: list[OpenActionItem]) -> None:
    """Point each proposed action at the open action item it nearly duplicates, if any."""
    for x in actions:
        match = best_match(x.title, [(o.name, o) for o in open_items])
        if match is not None:
            x.existing, x.similarity = match[0], round(match[1], 2)


def propose_actions(
    inputs: RetroInputs,
    a: RetroAnalysis,
    texts: list[TextRef],
    hits: Mapping[str, list[TextRef]] | None = None,
) -> list[ProposedAction]:
    """`hits`: `theme_hits(texts)` when the caller has it."""
    due = action_due(inputs)
    out: list[ProposedAction] = []
    problems = sorted(
        (t for t in a.themes if t.kind == "problem" and t.name in REMEDIES),
        key=lambda t: (not t.recurring, t.sentiment, -t.count, t.name),
    )
    owners = _owners(problems, inputs, theme_hits(texts) if hits is None else hits)
    for t in problems:
        why = f"{t.name}: {t.count} mentions this sprint" + (
            f", also in {', '.join(t.seen_in)}" if t.recurring else ""
        )
        out.append(
            ProposedAction(
                title=REMEDIES[t.name],
                why=why,
                owner_gid=owners[t.name],
                due_on=due,
                recurring=t.recurring,
            )
        )
    c = a.commitment
    if c.scope_points and c.carry_over_points / c.scope_points > CARRY_OVER_ALERT:
        out.append(
            ProposedAction(
                title="Plan to ~80% of median velocity and split stories above 8 points",
                why=f"{c.carry_over_points:g} of {c.scope_points:g} points carried over",
                owner_gid=inputs.scrum_master_gid,
                due_on=due,
            )
        )
    long_blocks = [b for b in a.blockers if b.days >= BLOCKED_ALERT_DAYS]
    if long_blocks and not any(x.title == REMEDIES["Blocked by dependencies or other teams"] for x in out):
        out.append(
            ProposedAction(
                title=REMEDIES["Blocked by dependencies or other teams"],
                why=f"{len(long_blocks)} items blocked for {BLOCKED_ALERT_DAYS:g}+ days",
                owner_gid=inputs.scrum_master_gid,
                due_on=due,
            )
        )
    seen: set[str] = set()
    unique = [x for x in out if not (x.title in seen or seen.add(x.title))]  # type: ignore[func-returns-value]
    chosen = unique[:MAX_ACTIONS]
    link_open_items(chosen, inputs.open_items)
    return chosen


def analyse(inputs: RetroInputs, engine: LexiconSentiment | None = None) -> RetroAnalysis:
    """`engine`: the sentiment engine (`tools.sentiment.engine.engine_choice()`; the offline
    lexicon when None); the mood names it."""
    items, window = inputs.items, inputs.window
    cycles = cycle_times([i for i in items if completed_in(i, window)])
    texts = _texts(inputs)
    # One sentiment score per distinct text, shared by the themes and the mood, all scored in one
    # batch: the texts of the themes that will be reported and the comments.
    sentiment = CachedSentiment(engine)
    hits = theme_hits(texts)
    comments = [c for i in items for c in i.comments]
    sentiment.prime(
        [r.text for refs in hits.values() if len(refs) >= THEME_MIN_COUNT for r in refs]
        + [c.text for c in comments]
    )
    themes = mark_recurring(
        find_themes(texts, THEME_MIN_COUNT, model=sentiment, hits=hits), _previous_themes(inputs)
    )
    result = RetroAnalysis(
        commitment=commitment(items, window),
        cycles=cycles,
        accuracy=estimation_accuracy(cycles),
        deviations=timeline_deviations(items, window),
        blockers=blockers(items, window),
        mood=sprint_mood(comments, window, sentiment),
        themes=themes,
    )
    result.actions = propose_actions(inputs, result, texts, hits)
    return result
