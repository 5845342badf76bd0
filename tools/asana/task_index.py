"""Projects' task lists kept current in the process with `modified_since` reads (issue 23).

Triage of one new task needs the team's history: every task of the backlog. Reading it whole on
every event costs one call per 100 tasks, per event, and quota-binds an event-driven team. Here the
first read of a project is whole; later reads ask Asana only for the project's tasks modified since
the newest `modified_at` already seen (one call while fewer than 100 changed), and merge them by gid.

What a `modified_since` read cannot see: a task removed from the project or deleted keeps its old
copy until the next whole read, at most `REFRESH_S` later (and at once when the process's runtime
closes, `forget`). Triage uses it as history for estimates, where an extra old task is harmless
for that long; work that must know membership exactly reads the project itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tools.asana.models import Task

REFRESH_S = 900.0  # a whole read at least this often (seconds)
MAX_PROJECTS = 64
# Asana stamps modified_at to the millisecond; re-reading one second back costs a duplicate or two
# (merged by gid) and never misses a change made in the same second as the newest one seen.
OVERLAP = timedelta(seconds=1)


@dataclass
class _Entry:
    tasks: dict[str, Task] = field(default_factory=dict)
    watermark: datetime | None = None
    whole_at: float = 0.0


def _newest(tasks: list[Task], current: datetime | None) -> datetime | None:
    stamps = [t.modified_at for t in tasks if t.modified_at is not None]
    if current is not None:
        stamps.append(current)
    return max(stamps) if stamps else None


class ProjectTaskIndex:
    def __init__(self, refresh_s: float = REFRESH_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}
        self.refresh_s = refresh_s
        self._clock = clock
        self.whole_reads = 0
        self.delta_reads = 0

    def tasks(self, reads: Any, project_gid: str) -> list[Task]:
        """The project's tasks (planning view): whole on first use or when due, else the copy
        updated with what changed. A reader without `project_tasks_modified_since` (e.g. a
        person's visibility-checked view) always reads whole."""
        delta = getattr(reads, "project_tasks_modified_since", None)
        if delta is None:
            return list(reads.project_tasks(project_gid))
        key = (str(getattr(reads, "base_url", "")), project_gid)
        with self._lock:
            entry = self._entries.get(key)
            due = entry is None or entry.watermark is None or self._clock() - entry.whole_at > self.refresh_s
        if due:
            rows = list(reads.project_tasks(project_gid))
            fresh = _Entry({t.gid: t for t in rows}, _newest(rows, None), self._clock())
            with self._lock:
                if len(self._entries) >= MAX_PROJECTS and key not in self._entries:
                    self._entries.pop(next(iter(self._entries)))
                self._entries[key] = fresh
                self.whole_reads += 1
            return rows
        assert entry is not None and entry.watermark is not None
        changed = list(delta(project_gid, entry.watermark - OVERLAP))
        with self._lock:
            entry.tasks.update({t.gid: t for t in changed})
            entry.watermark = _newest(changed, entry.watermark)
            self.delta_reads += 1
            return list(entry.tasks.values())

    def forget(self, base_url: str) -> None:
        """Drop every project read through this Asana (a closing runtime: a later one may reuse
        its address with other data, as test sandboxes do)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == base_url]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# Shared by the process's runs (triage's history); see the module docstring.
PROJECT_TASKS = ProjectTaskIndex()
