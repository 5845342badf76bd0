"""Koralage sprint reports (e.g. Spring XD) → recorded sprints.

What the data gives and what is derived (also in evals/recorded/FORMAT.md):

* Sprint dates, member issues with summary/description, priority, initial/final story points,
  assignee and the sprint-report status (Completed, Punted, CompletedInAnotherSprint,
  NotCompletedWithinSprint) come from the data. Assignees are pseudonymised as "Dev 1", "Dev 2"…
  in order of first appearance; real names never enter a recording.
* Which members were added mid-sprint is only a count (`issueKeysAddedDuringSprint`): the
  members with the highest issue numbers are taken as the added ones (Jira keys grow with
  creation time), spread evenly over the sprint days.
* Completion days are not in the data: each completed issue finishes on a day drawn by a seeded
  hash of (seed, sprint, key) among the days after it joined the sprint. Start days are not in the
  data either: a completed issue moves to In Progress on a hashed day between joining and
  closing; an unfinished one on a hashed day anywhere in the rest of the sprint. Punted issues
  leave the sprint on a hashed day the same way. Comments are not in the data (only counts), so
  none are invented.
* Business Value and Effort do not exist in Jira: Business Value = 80/60/40/20 by priority
  (Critical/High/Medium/Low) + min(20, 4·votes + 2·watchers); Effort = ceil(points·10/13)
  clamped to 1..10. Story Points at sprint start = the initial estimate when one was recorded,
  else the final one (Jira's initial 0 usually means "entered after the issue joined");
  issues added mid-sprint arrive with their initial estimate only (often none) and are
  re-estimated to the final value the next day.
* The candidate backlog at sprint start = the sprint's starting scope + issues left open by the
  previous `carry_window` sprints + starting issues of the next `lookahead` sprints that already
  existed (lower issue number than the newest issue in this sprint's scope).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from pathlib import Path

from evals.datasets.sprints import KoralageIssue, KoralageProject, KoralageSprint, MembershipRow
from evals.recorded.io import save_recorded
from evals.recorded.models import (
    Event,
    Outcome,
    RecordedField,
    RecordedMembership,
    RecordedProject,
    RecordedSprint,
    RecordedTask,
    RecordedUser,
    ReEstimated,
    Snapshot,
    SourceRef,
    TaskAdded,
    TaskCompleted,
    TaskMoved,
    TaskRemoved,
)
from tools.asana.field_names import (
    AI_PRIORITY_SCORE,
    AI_SUGGESTION,
    BUSINESS_VALUE,
    EFFORT,
    ESTIMATED_STORY_POINTS,
    IMPEDIMENTS,
    PRIORITY,
    RISK_SCORE,
    SPRINT,
    STATUS,
    STORY_POINTS,
)

BACKLOG_ID = "backlog"
SPRINT_ID = "sprint"
BACKLOG_SECTIONS = ["Icebox", "Backlog", "Ready", "In Progress", "Ready for Review", "Done"]
SPRINT_SECTIONS = ["To Do", "In Progress", "Done"]
PRIORITIES = ["Critical", "High", "Medium", "Low"]
STATUSES = ["Not Started", "In Progress", "Blocked", "Ready for Review", "Done"]
JIRA_PRIORITY = {1: "Critical", 2: "Critical", 3: "High", 4: "Medium", 5: "Low"}
VALUE_BY_PRIORITY = {"Critical": 80, "High": 60, "Medium": 40, "Low": 20}
EVENT_ORDER = {"task_added": 0, "task_moved": 1, "re_estimated": 2, "task_completed": 3, "task_removed": 4}

FIELDS = [
    # Jira allows fractional estimates (e.g. 0.2); precision 0 would round them away.
    RecordedField(name=STORY_POINTS, type="number", precision=1),
    RecordedField(name=PRIORITY, type="enum", options=PRIORITIES),
    RecordedField(name=BUSINESS_VALUE, type="number"),
    RecordedField(name=EFFORT, type="number"),
    RecordedField(name=SPRINT, type="text"),
    RecordedField(name=STATUS, type="enum", options=STATUSES),
    RecordedField(name=AI_PRIORITY_SCORE, type="number", precision=1),
    RecordedField(name=ESTIMATED_STORY_POINTS, type="number"),
    RecordedField(name=RISK_SCORE, type="number"),
    RecordedField(name=AI_SUGGESTION, type="text"),
    RecordedField(name=IMPEDIMENTS, type="text"),
]


def key_number(key: str) -> int:
    tail = key.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _hash(*parts: object) -> int:
    raw = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(raw.encode()).digest()[:8], "big")


def _points(value: float | None) -> float | None:
    return value if value is not None and value > 0 else None


def start_points(m: MembershipRow) -> float | None:
    return _points(m.initial_points) or _points(m.points)


def effort_for(points: float | None) -> float | None:
    if points is None:
        return None
    return float(min(10, max(1, math.ceil(points * 10 / 13))))


def business_value(priority: str, issue: KoralageIssue | None) -> float:
    votes = (issue.votes or 0) if issue else 0
    watchers = (issue.watch_count or 0) if issue else 0
    return float(min(100, max(1, VALUE_BY_PRIORITY[priority] + min(20, 4 * votes + 2 * watchers))))


class Pseudonyms:
    """Jira user names → "Dev N" in order of first appearance (real names never leave here)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def user_id(self, username: str | None) -> str | None:
        if not username:
            return None
        if username not in self._ids:
            self._ids[username] = len(self._ids) + 1
        return f"u{self._ids[username]}"

    def users(self) -> list[RecordedUser]:
        return [
            RecordedUser(id=f"u{n}", name=f"Dev {n}", email=f"dev{n}@example.invalid")
            for n in sorted(self._ids.values())
        ]


def _dedupe(rows: Iterable[MembershipRow]) -> list[MembershipRow]:
    seen: dict[str, MembershipRow] = {}
    for r in rows:
        seen.setdefault(r.key, r)
    return sorted(seen.values(), key=lambda r: (key_number(r.key), r.key))


def _task(
    m: MembershipRow,
    issue: KoralageIssue | None,
    people: Pseudonyms,
    points: float | None,
    section: str = "Backlog",
) -> RecordedTask:
    priority = JIRA_PRIORITY.get(m.priority or (issue.priority if issue else 0) or 0, "Medium")
    tags = [issue.issue_type.strip().lower()] if issue and issue.issue_type.strip() else []
    return RecordedTask(
        id=m.key,
        name=(m.summary or (issue.summary if issue else "") or m.key).strip() or m.key,
        notes=(issue.description or "").strip() if issue else "",
        assignee=people.user_id(m.assignee),
        tags=tags,
        fields={
            STORY_POINTS: points,
            PRIORITY: priority,
            BUSINESS_VALUE: business_value(priority, issue),
            EFFORT: effort_for(points),
            STATUS: "Not Started",
        },
        memberships=[RecordedMembership(project=BACKLOG_ID, section=section)],
    )


def _day_after(base: int, length: int, *salt: object) -> int:
    """A hashed day in (base, last day]; the base day itself when nothing is left."""
    span = length - 1 - base
    return base if span <= 0 else base + 1 + _hash(*salt) % span


def convert_sprint(
    project: KoralageProject,
    index: int,
    ordered: list[KoralageSprint],
    people: Pseudonyms,
    *,
    seed: int = 0,
    lookahead: int = 2,
    carry_window: int = 3,
) -> RecordedSprint:
    sprint = ordered[index]
    if sprint.start is None or sprint.end is None:
        raise ValueError(f"sprint {sprint.name!r} has no dates")
    length = (sprint.end - sprint.start).days + 1
    members = _dedupe(project.members(sprint.sprint_id))
    for m in members:
        people.user_id(m.assignee)
    k = min(sprint.added_during_sprint, len(members))
    added = sorted(members, key=lambda m: (-key_number(m.key), m.key))[:k]
    added_keys = {m.key for m in added}
    scope = [m for m in members if m.key not in added_keys]
    member_keys = {m.key for m in members}

    candidates: dict[str, RecordedTask] = {}
    for m in scope:
        candidates[m.key] = _task(m, project.issues.get(m.key), people, start_points(m), "Ready")
    # Open carry-over from recent sprints: in an earlier sprint, never completed before this one.
    done_before: set[str] = set()
    for prev in ordered[:index]:
        done_before |= {m.key for m in project.members(prev.sprint_id) if m.status == "Completed"}
    for prev in ordered[max(0, index - carry_window) : index]:
        for m in _dedupe(project.members(prev.sprint_id)):
            if m.key not in done_before and m.key not in member_keys and m.key not in candidates:
                candidates[m.key] = _task(m, project.issues.get(m.key), people, _points(m.points))
    newest = max((key_number(m.key) for m in scope), default=0)
    for nxt in ordered[index + 1 : index + 1 + lookahead]:
        for m in _dedupe(project.members(nxt.sprint_id)):
            fresh = m.key not in member_keys and m.key not in candidates and m.key not in done_before
            if key_number(m.key) < newest and fresh:
                candidates[m.key] = _task(m, project.issues.get(m.key), people, start_points(m))

    events: list[Event] = []
    base_day: dict[str, int] = {m.key: 0 for m in scope}
    for j, m in enumerate(sorted(added, key=lambda m: (key_number(m.key), m.key))):
        day = min(length - 1, 1 + (j * max(1, length - 2)) // max(1, len(added)))
        base_day[m.key] = day
        data = _task(m, project.issues.get(m.key), people, _points(m.initial_points))
        events.append(TaskAdded(day=day, task=m.key, data=data))
        events.append(TaskMoved(day=day, task=m.key, project=SPRINT_ID, section="To Do"))
        if _points(m.initial_points) != _points(m.points):
            # Includes an estimate cleared to 0 (recorded as None), like the starting scope's.
            events.append(
                ReEstimated(
                    day=min(length - 1, day + 1),
                    task=m.key,
                    old=_points(m.initial_points),
                    new=_points(m.points),
                )
            )
    # Overlapping sprints: an issue finished here that the next sprint also lists (Jira's
    # "completed in another sprint") must be done before the next sprint starts, or that sprint's
    # numbers would count it as finished there.
    following = ordered[index + 1] if index + 1 < len(ordered) else None
    in_next: set[str] = set()
    cap: int | None = None
    if following is not None and following.start is not None and following.start <= sprint.end:
        in_next = {m.key for m in project.members(following.sprint_id)}
        cap = (following.start - sprint.start).days - 1
    for m in members:
        base = base_day[m.key]
        if m.key not in added_keys and _points(m.initial_points) and m.initial_points != m.points:
            when = _day_after(base, length, seed, sprint.sprint_id, m.key, "estimate")
            events.append(ReEstimated(day=when, task=m.key, old=m.initial_points, new=_points(m.points)))
        # Start days are not in the data. A completed issue starts on a hashed day before it closes;
        # an unfinished one on a hashed day anywhere in the rest of the sprint (its work would end
        # after the sprint). Neither rule looks at anything the stand-up could not know, so being
        # In Progress mid-sprint carries no planted hint of the outcome.
        done = _day_after(base, length, seed, sprint.sprint_id, m.key)
        if m.status == "Completed" and cap is not None and m.key in in_next and base <= cap:
            done = min(done, cap)
        until = done if m.status == "Completed" else length
        start = base + _hash(seed, sprint.sprint_id, m.key, "start") % max(1, until - base)
        gone = _day_after(base, length, seed, sprint.sprint_id, m.key, "punt")
        if m.status != "Punted" or start < gone:
            events.append(TaskMoved(day=start, task=m.key, project=SPRINT_ID, section="In Progress"))
        if m.status == "Completed":
            events.append(TaskCompleted(day=done, task=m.key))
        elif m.status == "Punted":
            events.append(TaskRemoved(day=gone, task=m.key, project=SPRINT_ID))
    events.sort(key=lambda e: (e.day, EVENT_ORDER.get(e.type, 9), key_number(e.task), e.task))

    by_status: dict[str, list[str]] = {}
    for m in members:
        by_status.setdefault(m.status, []).append(m.key)
    number = index + 1
    snapshot = Snapshot(
        workspace="Spring XD (recorded)",
        team="Spring XD",
        users=people.users(),
        fields=FIELDS,
        projects=[
            RecordedProject(id=BACKLOG_ID, name="Product Backlog", kind="backlog", sections=BACKLOG_SECTIONS),
            RecordedProject(
                id=SPRINT_ID,
                name=f"Sprint {number}",
                kind="sprint",
                sections=SPRINT_SECTIONS,
                start_on=sprint.start,
                due_on=sprint.end,
                notes=f"Recorded from {project.project} {sprint.name}",
            ),
        ],
        tasks=sorted(candidates.values(), key=lambda t: (key_number(t.id), t.id)),
        sprint_scope=[m.key for m in scope],
    )
    return RecordedSprint(
        id=f"{project.project.lower()}-{sprint.sprint_id}",
        sequence=number,
        name=f"Sprint {number}",
        start_on=sprint.start,
        end_on=sprint.end,
        source=SourceRef(
            dataset="koralage2020",
            project=project.project,
            sprint_id=str(sprint.sprint_id),
            sprint_name=sprint.name,
            notes="completion days, added-issue identity, Business Value and Effort are derived (FORMAT.md)",
        ),
        snapshot=snapshot,
        events=events,
        outcome=Outcome(
            completed_points=sprint.completed_points,
            punted_points=sprint.punted_points,
            not_completed_points=sprint.not_completed_points,
            completed_items=by_status.get("Completed", []),
            punted_items=by_status.get("Punted", []),
            not_completed_items=by_status.get("NotCompletedWithinSprint", []),
            completed_elsewhere_items=by_status.get("CompletedInAnotherSprint", []),
        ),
    )


def convert_koralage(
    project: KoralageProject, *, seed: int = 0, lookahead: int = 2, carry_window: int = 3
) -> list[RecordedSprint]:
    """Every dated sprint of the project, in start-date order (undated sprints are skipped)."""
    ordered = sorted(
        (s for s in project.sprints if s.start is not None and s.end is not None),
        key=lambda s: (s.start, s.sprint_id),
    )
    people = Pseudonyms()
    return [
        convert_sprint(project, i, ordered, people, seed=seed, lookahead=lookahead, carry_window=carry_window)
        for i in range(len(ordered))
    ]


def write_recordings(sprints: list[RecordedSprint], out_dir: Path) -> list[Path]:
    return [save_recorded(s, out_dir / f"{s.sequence:03d}-{s.id}.json") for s in sprints]
