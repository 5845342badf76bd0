"""Near-duplicates of an incoming request among backlog items, by the estimator's text similarity.

The similarity is the story-point estimator's own (tools/estimation: TF-IDF over hashed word 1–2
grams and character 3–5 grams, the title counted twice), computed over the candidates, not the
estimator's completed history: the open backlog items and those completed in the last
`RECENT_DAYS` (a request for something just delivered is a duplicate too). Every term counts
(`min_df=1`): in a backlog of a few dozen items, a word the request shares with one item only is
exactly the evidence of a duplicate.

A request is a near-duplicate of its closest item when both hold:

* similarity ≥ `LINK_SIMILARITY` (0.55), and
* it stands out: the closest item is at least `STANDS_OUT` (0.15) more similar than the runner-up.
  Backlogs are full of items of one shape ("Add alerts for login error rate", "Add alerts for
  address book error rate"); a request as close to several of them ("Add alerts for payments
  error rate") is a new item of a familiar kind, not a repeat of one.

A request whose title is an item's title in other order or inflection (the retro's title key,
tools/retro/dedupe.normalize_title) is a duplicate of it whatever the descriptions say: a
resubmission. At ≥ `MERGE_SIMILARITY` (0.8: the same request in other words) or with the same
title the proposal is to merge (close the request as a duplicate); otherwise to link the two.
Either is only ever proposed for approval.

Chosen on the generated sandbox backlog (seed 7: 150 open items and 48 completed in the last 90
days; the cases are in tests/triage/test_form_intake.py): at 0.55 with the margin, 7 of 8 reworded
requests for existing items are found (the miss: "End-to-end tests for returns" vs "Write an
end-to-end test suite for returns", 0.44) and 1 of 8 requests for new items of an existing shape
is flagged ("Add referral program to the web app" vs "… to the iOS app", 0.73: a fair link).
Without the margin, 0.55 flags 5 of the 8 new items; raising the threshold to 0.6 instead keeps
them out but finds only 5 of the 8 repeats. Lowering it to 0.5 finds no more.

An item a person already declined as this request's duplicate (`rejected`: a rejected
`link_duplicate` for the pair) is never proposed again, but it still counts as the runner-up: a
request as close to a declined item as to another is no clearer a repeat of the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from tools.asana.models import Task
from tools.estimation import LIGHT, PastTask, StoryPointEstimator
from tools.retro.dedupe import normalize_title

LINK_SIMILARITY = 0.55
STANDS_OUT = 0.15
MERGE_SIMILARITY = 0.8
RECENT_DAYS = 90
SHOWN = 3

# The estimator's similarity with every term counted (see the module docstring).
INDEX_CONFIG = LIGHT.model_copy(update={"name": "duplicates", "min_df": 1})

Resolution = Literal["link", "merge"]


class Candidate(BaseModel):
    """A backlog item a request may repeat."""

    gid: str
    name: str
    notes: str = ""
    project_gid: str
    completed: bool = False
    permalink_url: str | None = None


class Match(BaseModel):
    gid: str
    name: str
    project_gid: str
    similarity: float
    completed: bool
    permalink_url: str | None = None


class DuplicateCheck(BaseModel):
    """The closest backlog items and, when one qualifies, the proposed resolution."""

    compared: int
    closest: list[Match] = Field(default_factory=list)
    duplicate: Match | None = None
    resolution: Resolution | None = None
    runner_up: float = 0.0
    same_title: bool = False
    # Items people declined as this request's duplicate: never proposed again (see the docstring).
    declined: list[str] = Field(default_factory=list)
    rule: str = (
        f"similarity ≥ {LINK_SIMILARITY} and ≥ {STANDS_OUT} above the runner-up, or the same title; "
        f"merge at ≥ {MERGE_SIMILARITY} or the same title, else link"
    )


def _work_item(task: Task) -> bool:
    return not task.parent and task.resource_subtype not in {"approval", "milestone", "section"}


def candidates_from(
    project_gid: str, tasks: Iterable[Task], now: datetime, *, exclude: Iterable[str] = ()
) -> list[Candidate]:
    """Open work items of a backlog, and those completed in the last `RECENT_DAYS`."""
    skip = set(exclude)
    since = now - timedelta(days=RECENT_DAYS)
    out: list[Candidate] = []
    for t in tasks:
        if t.gid in skip or not _work_item(t) or not (t.name or "").strip():
            continue
        if t.completed:
            done = t.completed_at
            if done is None:
                continue
            if done.tzinfo is None:
                done = done.replace(tzinfo=now.tzinfo)
            if done < since:
                continue
        out.append(
            Candidate(
                gid=t.gid,
                name=t.name or "",
                notes=t.notes or "",
                project_gid=project_gid,
                completed=bool(t.completed),
                permalink_url=t.permalink_url,
            )
        )
    return out


def _match(c: Candidate, similarity: float) -> Match:
    return Match(
        gid=c.gid,
        name=c.name,
        project_gid=c.project_gid,
        similarity=round(similarity, 3),
        completed=c.completed,
        permalink_url=c.permalink_url,
    )


def find_duplicates(
    title: str, notes: str, candidates: list[Candidate], *, rejected: Iterable[str] = ()
) -> DuplicateCheck:
    """Score the request against every candidate; see the module docstring for the rule."""
    declined = sorted(set(rejected) & {c.gid for c in candidates})
    if not candidates or not title.strip():
        return DuplicateCheck(compared=len(candidates), declined=declined)
    index = StoryPointEstimator(INDEX_CONFIG)
    index.add(PastTask(id=c.gid, title=c.name, description=c.notes, points=0) for c in candidates)
    by_gid = {c.gid: c for c in candidates}
    row = index.similarities([(title, notes)])[0]
    ranked = sorted(zip(index.ids, row, strict=True), key=lambda pair: (-float(pair[1]), pair[0]))
    closest = [_match(by_gid[gid], float(sim)) for gid, sim in ranked[:SHOWN]]
    eligible = [i for i, (gid, _) in enumerate(ranked) if gid not in declined]
    pick = eligible[0] if eligible else None
    best = float(ranked[pick][1]) if pick is not None else 0.0
    # The runner-up is the closest other item, declined or not.
    runner_up = max((float(sim) for i, (_, sim) in enumerate(ranked) if i != pick), default=0.0)
    check = DuplicateCheck(
        compared=len(candidates), closest=closest, runner_up=round(runner_up, 3), declined=declined
    )
    key = normalize_title(title)
    same = next((i for i in eligible if normalize_title(by_gid[ranked[i][0]].name) == key), None)
    if key and same is not None:
        gid, sim = ranked[same]
        check.duplicate = closest[same] if same < SHOWN else _match(by_gid[gid], float(sim))
        check.same_title, check.resolution = True, "merge"
    elif pick is not None and best >= LINK_SIMILARITY and best - runner_up >= STANDS_OUT:
        check.duplicate = closest[pick] if pick < SHOWN else _match(by_gid[ranked[pick][0]], best)
        check.resolution = "merge" if best >= MERGE_SIMILARITY else "link"
    return check
