"""Nudges within a noise budget: at most one message per person per day, listing all their flagged work.

Where the message lands, and why: one comment on the person's most urgent flagged task (overdue
first, then due soon, blocked, over capacity, unestimated; ties in 'next' order), addressed to
them by name and listing every other flagged task of theirs with its link.

- A comment on a task the person is assigned to reaches them once: Asana notifies a task's
  assignee (a collaborator of it) of new comments, so no @-mention is needed for the notification,
  and one comment is one notification instead of one per task.
- It sits where the conversation has to happen: the most urgent task is the one to unblock,
  split or re-plan first, and replies stay on that task's thread for everyone working on it.
- The alternatives are louder or worse placed: a project status update or message notifies every
  member of the project; a new "your at-risk tasks" task adds work items to the sprint; one
  comment per task is the noise this replaces.

Across runs and projects the same person gets no second nudge on the same local day: every nudge
action states the facts {"nudge": person gid, "day": ISO date}, and the shared repeat detection
(graphs/repeats.py) skips a comment whose facts equal an applied one's. A person flagged in two
projects hears about the first project's work that day; the other project's stand-up still lists
their tasks, and tomorrow's nudge covers what is still flagged.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pydantic import BaseModel, Field

from tools.standup.activity import next_order_key
from tools.standup.blockers import Blocker
from tools.standup.models import TaskState
from tools.standup.risk import AtRisk

# Most urgent first; "blocked" stands for any blocker reason.
URGENCY = ("overdue", "due_soon", "blocked", "capacity", "unestimated")


class NudgeItem(BaseModel):
    task_gid: str
    name: str
    url: str
    due_on: date | None = None
    kinds: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)


class Nudge(BaseModel):
    """One message to one person: it lands on `items[0]`, their most urgent flagged task."""

    person_gid: str
    person_name: str
    items: list[NudgeItem]

    @property
    def task_gid(self) -> str:
        return self.items[0].task_gid

    def facts(self, day: date) -> dict[str, str]:
        """What the nudge states for repeat detection: this person, this local day."""
        return {"nudge": self.person_gid, "day": day.isoformat()}


def task_url(task: TaskState, project_gid: str) -> str:
    return task.url or f"https://app.asana.com/0/{project_gid}/{task.gid}"


def _rank(kinds: Iterable[str]) -> int:
    return min((URGENCY.index(k) for k in kinds if k in URGENCY), default=len(URGENCY))


def plan_nudges(
    tasks: Iterable[TaskState],
    at_risk: Iterable[AtRisk],
    blockers: Iterable[Blocker],
    members: set[str],
    project_gid: str,
    *,
    limit: int,
) -> list[Nudge]:
    """One nudge per member owning at-risk or blocked work, most urgent person first, at most `limit`.

    Owners outside `members` (people who left, guests of other workspaces, the bot) are never
    nudged; their tasks stay in the stand-up's lists."""
    by_gid = {t.gid: t for t in tasks}
    flagged: dict[str, NudgeItem] = {}

    def item(gid: str) -> NudgeItem | None:
        task = by_gid.get(gid)
        if task is None or task.completed:
            return None
        if gid not in flagged:
            flagged[gid] = NudgeItem(
                task_gid=gid, name=task.name, url=task_url(task, project_gid), due_on=task.due_on
            )
        return flagged[gid]

    for r in at_risk:
        row = item(r.task_gid)
        if row is not None:
            row.kinds += [k for k in r.kinds if k not in row.kinds]
            row.reasons += r.reasons
    for b in blockers:
        row = item(b.task_gid)
        if row is not None:
            if "blocked" not in row.kinds:
                row.kinds.append("blocked")
            row.reasons += b.reasons
    by_person: dict[str, list[NudgeItem]] = {}
    for gid, row in flagged.items():
        owner = by_gid[gid].assignee_gid
        if owner and owner in members:
            by_person.setdefault(owner, []).append(row)
    nudges: list[Nudge] = []
    for person, rows in by_person.items():
        rows.sort(key=lambda r: (_rank(r.kinds), next_order_key(by_gid[r.task_gid])))
        name = by_gid[rows[0].task_gid].assignee_name or "there"
        nudges.append(Nudge(person_gid=person, person_name=name, items=rows))
    nudges.sort(key=lambda n: (_rank(n.items[0].kinds), next_order_key(by_gid[n.task_gid]), n.person_gid))
    return nudges[: max(0, limit)]


def nudge_message(text: str, nudge: Nudge) -> str:
    """The written greeting, then every flagged task of the person with its link (computed, so
    nothing is left out or invented). Markdown: comments are posted as Asana rich text."""
    lines = [text.strip(), "", "Flagged today:"]
    for i, row in enumerate(nudge.items):
        here = " (this task)" if i == 0 else ""
        why = "; ".join(row.reasons) or ", ".join(row.kinds)
        name = row.name.replace("[", "(").replace("]", ")")  # a markdown link's text
        lines.append(f"- [{name}]({row.url}){here}: {why}")
    return "\n".join(lines)
