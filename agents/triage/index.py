"""The story-point estimator index, kept in-process between triage runs.

One index per (Asana base URL, project): building it vectorises every completed task, so a run
only adds the tasks completed since the last one. Each cached entry remembers what it indexed
(gid → name and points); if anything it indexed changed (renamed, re-estimated, or a different
workspace reusing the gids, as a fresh sandbox does) the index is rebuilt from scratch, so a stale
index can never leak into an estimate; so it is when the product's configuration changed (weights
installed or removed while a worker runs, another SPRINTPILOT_EMBEDDING_MODEL). The cache lives
as long as the process (a CLI run, a worker, an eval); nothing is written to disk. An add does
not invalidate an index (issue 23: tools/estimation/termindex.py), and an index holds memory in
proportion to its tasks, so the cache is bounded by bytes as well as by projects, least recently
used first out.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agents.triage.inputs import TriageInputs
from tools.asana.models import Task
from tools.asana.process_cache import on_forget
from tools.estimation import StoryPointEstimator
from tools.estimation.default import ConfigChoice, product_config
from tools.estimation.models import PastTask
from tools.feedback.corrections import corrected_points
from tools.feedback.models import FeedbackKind, FeedbackSource

MAX_CACHED_PROJECTS = 64
# Bytes held by all cached indexes (n-gram rows and postings, sentence vectors): about 40k tasks of
# real Jira text; the least recently used projects are dropped beyond it (the one in use never is).
MAX_CACHED_BYTES = 512 * 2**20


@dataclass
class _Entry:
    estimator: StoryPointEstimator
    choice: ConfigChoice  # the product's configuration when it was built
    seen: dict[str, tuple[str, float]] = field(default_factory=dict)


def _past(task: Task, points: float) -> PastTask:
    return PastTask(id=task.gid, title=task.name or task.gid, description=task.notes or "", points=points)


class EstimatorCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}
        self.rebuilds = 0
        self.incremental_adds = 0

    def index_for(self, key: tuple[str, str], history: list[tuple[Task, float]]) -> StoryPointEstimator:
        with self._lock:
            current = {t.gid: (t.name or "", p) for t, p in history}
            choice = product_config()
            entry = self._entries.pop(key, None)  # re-inserted below: the most recently used is last
            if entry is not None and any(current.get(g) != v for g, v in entry.seen.items()):
                entry = None  # something it indexed changed: rebuild
            if entry is not None and entry.choice != choice:
                entry = None  # weights installed or removed since, or another model folder named
            if entry is None:
                entry = _Entry(StoryPointEstimator(), choice)
                self.rebuilds += 1
            self._entries[key] = entry
            new = [(t, p) for t, p in history if t.gid not in entry.seen]
            if new:
                entry.estimator.add([_past(t, p) for t, p in new])
                entry.seen.update({t.gid: (t.name or "", p) for t, p in new})
                self.incremental_adds += 1
            self._evict()
            return entry.estimator

    def _evict(self) -> None:
        while len(self._entries) > 1 and (
            len(self._entries) > MAX_CACHED_PROJECTS or self._held() > MAX_CACHED_BYTES
        ):
            self._entries.pop(next(iter(self._entries)))

    def _held(self) -> int:
        return sum(e.estimator.nbytes for e in self._entries.values())

    @property
    def nbytes(self) -> int:
        """Bytes held by the cached indexes."""
        with self._lock:
            return self._held()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def forget(self, base_url: str) -> None:
        """Drop the indexes built from one Asana (its runtime or replay sandbox is gone)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == base_url]:
                del self._entries[key]


# Shared by every triage run of this process (see the module docstring).
ESTIMATOR_CACHE = EstimatorCache()
on_forget(ESTIMATOR_CACHE.forget)  # a closed sandbox's address may come back with other data


# ---- feedback: corrected points are ground truth (tools/feedback/corrections.py) ---------------
CORRECTIONS_WINDOW_DAYS = 365
MAX_CORRECTED_READS = 50  # open corrected tasks read one by one; the newest this many


def corrected_history(
    history: list[tuple[Task, float]],
    source: FeedbackSource | None,
    asana: Any,
    inputs: TriageInputs,
    now: datetime,
) -> tuple[list[tuple[Task, float]], dict[str, float]]:
    """The index history with people's corrected points winning: a task in it takes its corrected
    value, and a corrected task of the project that is not (still open) joins it with that value,
    so similar tasks are estimated from what people said. Returns (history, corrections used)."""
    if source is None:
        return history, {}
    in_project = inputs.completed_gids | inputs.known_open_gids | {t.gid for t in inputs.targets}
    items = source.items(
        since=now - timedelta(days=CORRECTIONS_WINDOW_DAYS),
        task_gids=sorted(in_project),
        kinds=(FeedbackKind.FIELD_CORRECTED, FeedbackKind.WRONG_COMMENT),
    )
    corrected = corrected_points(items)
    if not corrected:
        return history, {}
    out = [(t, corrected.get(t.gid, p)) for t, p in history]
    seen = {t.gid for t, _ in out}
    known = {t.gid: t for t in inputs.targets}
    missing = [g for g in corrected if g not in seen][-MAX_CORRECTED_READS:]
    for gid in missing:
        task = known.get(gid) or asana.task(gid)
        out.append((task, corrected[gid]))
    return out, corrected
