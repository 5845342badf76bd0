"""A ceremony task people removed is not prepared again for the same time.

The ceremony's task is found by its key line in the ceremonies project. When none is found but the
action ledger shows we created one for this ceremony, sprint, team and start time (the create's
facts, graphs/repeats.fact_key), a person deleted it, completed it or took its key line out: a
decision about this ceremony at this time, which a daily job must not undo. The run then proposes
nothing and says what it found (read from Asana now). A new time (the sprint or the configured time
moved) is a new ceremony and is prepared again; so is a task restored from Asana's trash, which is
found by its key line as before.
"""

from __future__ import annotations

from typing import Any

from agents.proposal import Action
from graphs.ports import ApplyJournal
from tools.asana.errors import NotFound


def removed_note(journal: ApplyJournal, asana: Any, create: Action, title: str, start: str) -> str | None:
    """Why `create` (the ceremony task's create action) is not proposed again; None: propose it."""
    from graphs.repeats import fact_key

    key = fact_key(create)
    entry = journal.applied_fact(key, other_than="") if key else None
    if entry is None:
        return None
    gid = str((entry.result or {}).get("gid") or "")
    how = "was deleted"
    if gid:
        try:
            task = asana.task(gid)
        except NotFound:
            task = None
        if task is not None:
            how = (
                "was completed"
                if task.completed
                else "is no longer an open task with its key line in the ceremonies project"
            )
    return (
        f"the {title} task prepared for {start} (task {gid or 'unknown'}) {how} in Asana; that is "
        "respected: it is not prepared again for this time (a new time, or the task restored, is)"
    )
