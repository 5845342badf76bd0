"""Projects' task lists kept current in the process with `modified_since` reads (issue 23).

Triage of one new task needs the team's history (every task of the backlog), and a slipped due
date cascades through the sprint and the backlog. Reading those projects whole on every event
costs one call per 100 tasks, per event, and quota-binds an event-driven team. Here the first read
of a project (per view) is whole; later reads ask Asana only for the project's tasks modified since
the newest `modified_at` already seen (one call while fewer than 100 changed), and merge them by gid.

What `modified_at` does not show: Asana leaves it unchanged when a task's associations change (a
task added to or removed from a project, deleted, a dependency linked). Events do show them, so
`note` records each event about a task (the worker feeds every event any receiver stored,
service/events/index_feed.py); a later read whose changes do not include such a task reads it on
its own (its memberships say whether it is still in the project), or the project whole when more
than `MAX_TASK_READS` are left. A prerequisite that is not a member is noted too, because a
dependent's copy carries its completion. Without events (a process that handles none) a stale
membership lasts at most `REFRESH_S`, when a whole read is due anyway (and ends at once when the
runtime closes, `forget`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tools.asana.errors import Forbidden, NotFound
from tools.asana.fields import TaskView
from tools.asana.models import Ref, Task

REFRESH_S = 900.0  # a whole read at least this often (seconds)
MAX_PROJECTS = 64
# Asana stamps modified_at to the millisecond; re-reading one second back costs a duplicate or two
# (merged by gid) and never misses a change made in the same second as the newest one seen.
OVERLAP = timedelta(seconds=1)
# Noted tasks a change read did not return are read one by one up to this many, else the project.
MAX_TASK_READS = 3

_Key = tuple[str, str, TaskView]


@dataclass
class _Entry:
    tasks: dict[str, Task] = field(default_factory=dict)
    watermark: datetime | None = None
    whole_at: float = 0.0
    # Tasks an event was noted about since the last read (see the module docstring).
    pending: set[str] = field(default_factory=set)
    # Prerequisites of members that are not members themselves.
    linked: frozenset[str] = frozenset()


_DEFAULT = TaskView.PLANNING


def _read_whole(reads: Any, project_gid: str, view: TaskView) -> list[Task]:
    # Readers that know one view only (the planning view) are asked without naming it.
    return list(
        reads.project_tasks(project_gid) if view is _DEFAULT else reads.project_tasks(project_gid, view)
    )


def _newest(tasks: list[Task], current: datetime | None) -> datetime | None:
    stamps = [t.modified_at for t in tasks if t.modified_at is not None]
    if current is not None:
        stamps.append(current)
    return max(stamps) if stamps else None


def _linked(tasks: dict[str, Task]) -> frozenset[str]:
    """Prerequisites that are not members: a member's copy carries their completion."""
    return frozenset(d.gid for t in tasks.values() for d in t.dependencies if d.gid not in tasks)


def _with_member_links(tasks: dict[str, Task], outside: dict[str, Task] | None = None) -> None:
    """A dependent's copy carries its prerequisite's completion and name as of its own last read;
    a prerequisite that is a member (or was just read, `outside`) has a newer copy, which counts."""
    known = {**(outside or {}), **tasks}

    def stale(d: Ref) -> bool:
        extra = d.model_extra or {}
        newer = known.get(d.gid)
        return (
            newer is not None
            and "completed" in extra
            and (extra["completed"] != bool(newer.completed) or d.name != newer.name)
        )

    for gid, task in list(tasks.items()):
        if not any(stale(d) for d in task.dependencies):
            continue
        links = [
            Ref.model_validate(
                {**d.model_dump(), "completed": bool(known[d.gid].completed), "name": known[d.gid].name}
            )
            if stale(d)
            else d
            for d in task.dependencies
        ]
        tasks[gid] = task.model_copy(update={"dependencies": links})


def _member_of(task: Task, project_gid: str) -> bool:
    return any(m.project is not None and m.project.gid == project_gid for m in task.memberships)


def _read_each(reads: Any, gids: set[str], view: TaskView) -> dict[str, Task | None] | None:
    """Each task in `view`; None for one that is gone or out of sight (deleted, access lost).
    None for the whole answer when the reader cannot read one task (then the project is read)."""
    if not gids:
        return {}
    if not hasattr(reads, "task"):
        return None
    out: dict[str, Task | None] = {}
    for gid in sorted(gids):
        try:
            out[gid] = reads.task(gid, view)
        except (NotFound, Forbidden):
            out[gid] = None
    return out


class ProjectTaskIndex:
    def __init__(self, refresh_s: float = REFRESH_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._entries: dict[_Key, _Entry] = {}
        self.refresh_s = refresh_s
        self._clock = clock
        self.whole_reads = 0
        self.delta_reads = 0

    def tasks(self, reads: Any, project_gid: str, view: TaskView = _DEFAULT) -> list[Task]:
        """The project's tasks in `view`: whole on first use, when due, or when a noted event is
        not among the changes; else the copy updated with what changed. A reader without
        `project_tasks_modified_since` (e.g. a person's visibility-checked view) reads whole."""
        delta = getattr(reads, "project_tasks_modified_since", None)
        if delta is None:
            return _read_whole(reads, project_gid, view)
        key = (str(getattr(reads, "base_url", "")), project_gid, view)
        with self._lock:
            entry = self._entries.get(key)
            due = entry is None or entry.watermark is None or self._clock() - entry.whole_at > self.refresh_s
            pending = set() if entry is None else set(entry.pending)
        if not due:
            assert entry is not None and entry.watermark is not None
            since = entry.watermark - OVERLAP
            changed = list(delta(project_gid, since) if view is _DEFAULT else delta(project_gid, since, view))
            unseen = pending - {t.gid for t in changed}
            # A few noted tasks the changes did not show are read one by one: a task read says
            # whether it is still a member (its memberships) and what it links to.
            looked = _read_each(reads, unseen, view) if len(unseen) <= MAX_TASK_READS else None
            if looked is not None:
                with self._lock:
                    self.delta_reads += 1
                    entry.pending -= pending
                    entry.tasks.update({t.gid: t for t in changed})
                    outside: dict[str, Task] = {}
                    for gid, task in looked.items():
                        if task is not None and _member_of(task, project_gid):
                            entry.tasks[gid] = task
                        else:
                            entry.tasks.pop(gid, None)
                            if task is not None:
                                outside[gid] = task
                    _with_member_links(entry.tasks, outside)
                    entry.linked = _linked(entry.tasks)
                    entry.watermark = _newest(changed, entry.watermark)
                    return list(entry.tasks.values())
        return self._whole(reads, key, project_gid, view)

    def _whole(self, reads: Any, key: _Key, project_gid: str, view: TaskView) -> list[Task]:
        with self._lock:
            noted_before = set(self._entries[key].pending) if key in self._entries else set()
        rows = _read_whole(reads, project_gid, view)
        by_gid = {t.gid: t for t in rows}
        fresh = _Entry(by_gid, _newest(rows, None), self._clock(), linked=_linked(by_gid))
        with self._lock:
            # An event noted while the read was on its way may not be in it: kept for the next read.
            old = self._entries.get(key)
            if old is not None:
                fresh.pending = old.pending - noted_before
            if len(self._entries) >= MAX_PROJECTS and key not in self._entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = fresh
            self.whole_reads += 1
        return rows

    def note(self, base_url: str, task_gid: str, project_gid: str | None = None) -> None:
        """An event about a task (`project_gid`: the project it was added to or removed from):
        every kept list it may be in, or that links to it, checks it at its next read."""
        with self._lock:
            for (url, gid, _view), entry in self._entries.items():
                if url == base_url and (
                    gid == project_gid or task_gid in entry.tasks or task_gid in entry.linked
                ):
                    entry.pending.add(task_gid)

    def forget(self, base_url: str) -> None:
        """Drop every project read through this Asana (a closing runtime: a later one may reuse
        its address with other data, as test sandboxes do)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == base_url]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# Shared by the process's runs (triage's history, QA's Definition of Done, the dependency
# manager's event runs); see the module docstring.
PROJECT_TASKS = ProjectTaskIndex()
