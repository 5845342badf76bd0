"""The pure model of the synthetic workspace: backlog items, past sprints and their history.

`build_plan` runs a seeded simulation and returns plain data (no store, no gids):
- past two-week sprints whose committed scope sits slightly above the team's velocity; what gets
  done is drawn around that velocity, the rest carries over into the next sprint;
- per assignee a two-lane schedule whose cycle times grow with story points, so completions,
  section moves and Status changes land inside the sprint window in a believable order;
- comments of mixed tone, "blocked by ..." notes and Blocked statuses;
- the open backlog for the next planning: points (some missing), value, effort, priority, tags
  and a dependency DAG whose edges always point from a later item to an earlier one.
`sandbox.generator` turns the plan into Asana records.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from sandbox.generator_calendar import (
    SprintWindow,
    add_workdays,
    sprint_windows,
    workday_between,
    workday_time,
)
from sandbox.generator_people import SKILL_WEIGHTS, Person, make_people, people_with_skill
from sandbox.generator_text import TitleMaker, blocked_comment, comment, notes_for, process_actions

T = TypeVar("T")

FIBONACCI = (1, 2, 3, 5, 8, 13)
PRIORITIES = ("Critical", "High", "Medium", "Low")
STATUSES = ("Not Started", "In Progress", "Blocked", "Ready for Review", "Done")
BACKLOG_SECTIONS = ("Icebox", "Backlog", "Ready", "In Progress", "Ready for Review", "Done")
SPRINT_SECTIONS = ("To Do", "In Progress", "Done")
MAX_LINKS = 30  # Asana's cap on dependencies + dependents of one task

_HISTORY_POINTS = (0.10, 0.18, 0.27, 0.24, 0.16, 0.05)
_OPEN_POINTS = (0.08, 0.15, 0.25, 0.25, 0.17, 0.10)
# Typical working days from start to done per story-point size (before noise).
_CYCLE_DAYS = {1: 0.7, 2: 1.3, 3: 2.1, 5: 3.4, 8: 5.2, 13: 7.6}
_EFFORT_RANGE = {1: (1, 2), 2: (2, 3), 3: (3, 4), 5: (4, 6), 8: (6, 8), 13: (8, 10)}
_MINUTE = timedelta(minutes=1)


@dataclass
class PlanEvent:
    """Something that happened to an item; becomes a story (comment or system story)."""

    at: datetime
    kind: str  # comment | added_to_project | section_changed | assigned | status_changed | ...
    actor: str  # person key
    project: str | None = None  # "backlog" or "sprint:<index>"
    old: str | None = None
    new: str | None = None
    text: str = ""


@dataclass
class PlanItem:
    idx: int  # position in the topological order: dependencies always have a smaller idx
    title: str
    notes: str
    skill: str
    points: int | None
    business_value: int
    effort: int
    priority: str
    created_at: datetime
    created_by: str
    status: str = "Not Started"
    backlog_section: str = "Backlog"
    dependencies: list[int] = field(default_factory=list)
    sprints: list[int] = field(default_factory=list)  # sprint indices, in order
    sprint_sections: dict[int, str] = field(default_factory=dict)  # final section per sprint
    assignee: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None
    events: list[PlanEvent] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        return self.completed_at is not None

    @property
    def sprint_field(self) -> int | None:
        return self.sprints[-1] if self.sprints else None


@dataclass
class SprintRecord:
    window: SprintWindow
    velocity_target: float  # what the team really delivers this sprint (drawn around the base)
    committed: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)
    carried_over: list[int] = field(default_factory=list)


@dataclass
class ProcessAction:
    title: str
    notes: str
    created_at: datetime
    assignee: str
    completed_at: datetime | None


@dataclass
class WorkspacePlan:
    seed: int
    anchor: date
    people: list[Person]
    base_velocity: float
    sprints: list[SprintRecord]
    items: list[PlanItem]
    process_actions: list[ProcessAction]

    @property
    def scrum_master(self) -> Person:
        return self.people[0]

    def person(self, key: str) -> Person:
        return next(p for p in self.people if p.key == key)

    @property
    def open_items(self) -> list[PlanItem]:
        return [it for it in self.items if not it.completed]


def _weighted(rng: random.Random, values: Sequence[T], weights: Sequence[float]) -> T:
    return rng.choices(values, weights=weights, k=1)[0]


class _Simulation:
    def __init__(self, seed: int, anchor: date, backlog_size: int, past_sprints: int) -> None:
        self.rng = random.Random(f"sprintpilot-workspace:{seed}")
        self.seed = seed
        self.anchor = anchor
        self.backlog_size = backlog_size
        self.people = make_people(random.Random(f"people:{seed}"), self.rng.randint(7, 9))
        self.sm = self.people[0].key
        self.titles = TitleMaker(random.Random(f"titles:{seed}"))
        self.windows = sprint_windows(anchor, past_sprints)
        self.items: list[PlanItem] = []
        self.base_velocity = round(self.rng.uniform(37.0, 42.0), 1)
        self._latest_started = False  # has the latest sprint's unfinished work been started yet?

    # ---- items -------------------------------------------------------------------------------
    def _new_item(self, created_at: datetime, points: int | None, *, criteria_p: float) -> PlanItem:
        rng = self.rng
        skill = _weighted(rng, tuple(SKILL_WEIGHTS), tuple(SKILL_WEIGHTS.values()))
        value = max(1, min(100, round(rng.triangular(5, 100, 55))))
        noisy = value + rng.gauss(0, 12)
        priority = (
            "Critical" if noisy >= 88 else "High" if noisy >= 66 else "Medium" if noisy >= 38 else "Low"
        )
        lo, hi = _EFFORT_RANGE[points] if points else (2, 8)
        item = PlanItem(
            idx=len(self.items),
            title=self.titles.title(skill),
            notes=notes_for(rng, skill, self.titles.last_area, with_criteria=rng.random() < criteria_p),
            skill=skill,
            points=points,
            business_value=value,
            effort=rng.randint(lo, hi),
            priority=priority,
            created_at=created_at,
            created_by=self.sm if rng.random() < 0.6 else rng.choice(self.people).key,
        )
        self.items.append(item)
        return item

    def _pick_assignee(self, item: PlanItem, load: dict[str, float]) -> str:
        # Least loaded (relative to capacity) among the people who have the item's skill.
        candidates = people_with_skill(self.people, item.skill)
        best = min(candidates, key=lambda p: (load[p.key] / p.capacity + self.rng.random() * 2, p.key))
        load[best.key] += item.points or 3
        return best.key

    def _peer(self, not_key: str) -> str:
        return self.rng.choice([p for p in self.people if p.key != not_key]).name.split()[0]

    # ---- history -----------------------------------------------------------------------------
    def run_history(self) -> list[SprintRecord]:
        records: list[SprintRecord] = []
        carry: list[PlanItem] = []
        for window in self.windows:
            record = self._run_sprint(window, carry)
            records.append(record)
            carry = [self.items[i] for i in record.carried_over]
        return records

    def _run_sprint(self, window: SprintWindow, carry: list[PlanItem]) -> SprintRecord:
        rng = self.rng
        base = self.base_velocity
        delivered = max(base - 7, min(base + 7, rng.gauss(base, 3.5)))
        record = SprintRecord(window, round(delivered, 1))
        scope_target = self.base_velocity * rng.uniform(1.05, 1.12)
        committed = list(carry)
        planned: list[PlanItem] = []
        while sum(it.points or 0 for it in committed + planned) < scope_target:
            created = workday_time(window.start - timedelta(weeks=rng.randint(1, 8)), rng.uniform(0, 4.95))
            points = _weighted(rng, FIBONACCI, _HISTORY_POINTS)
            item = self._new_item(created, points, criteria_p=0.7)
            item.backlog_section = "Ready"  # refined before it was planned into a sprint
            planned.append(item)
        # The team plans new work by priority, then value.
        planned.sort(key=lambda it: (PRIORITIES.index(it.priority), -it.business_value, it.idx))
        self._add_history_dependencies(planned, window)
        committed += planned
        record.committed = [it.idx for it in committed]

        load = {p.key: 0.0 for p in self.people}
        for it in committed:
            if it.assignee is None:
                it.assignee = self._pick_assignee(it, load)
            else:
                load[it.assignee] += it.points or 3

        # Decide what gets done: work in commitment order until the sprint's real velocity is spent;
        # an item that would overshoot a lot is left for next sprint.
        done_points = 0.0
        done: set[int] = set()
        for it in committed:
            pts = it.points or 3
            carried = bool(it.sprints)
            if done_points + pts <= delivered + 2 and rng.random() < (0.95 if carried else 0.9):
                done.add(it.idx)
                done_points += pts
        # Whoever finishes early pulls the next small item that still fits.
        for it in committed:
            if it.idx not in done and done_points + (it.points or 3) <= delivered + 1:
                done.add(it.idx)
                done_points += it.points or 3
        if window is self.windows[-1]:
            # The sprint just closed always leaves some work for the coming planning to pick up.
            for it in reversed(committed):
                if len(committed) - len(done) >= 2:
                    break
                if it.idx in done and not it.sprints:
                    done.discard(it.idx)
        record.completed = [it.idx for it in committed if it.idx in done]
        record.carried_over = [it.idx for it in committed if it.idx not in done]
        self._schedule(window, committed, done)
        return record

    def _add_history_dependencies(self, planned: list[PlanItem], window: SprintWindow) -> None:
        done_before = [
            it for it in self.items if it.completed_at is not None and it.completed_at < window.at(0)
        ]
        for it in planned:
            if done_before and self.rng.random() < 0.12:
                dep = self.rng.choice(done_before)
                if dep.idx < it.idx and _links(self.items, dep) < MAX_LINKS - 1:
                    it.dependencies.append(dep.idx)

    def _schedule(self, window: SprintWindow, committed: list[PlanItem], done: set[int]) -> None:
        """Two lanes per person; cycle time grows with points; rescale so done work fits the window."""
        rng = self.rng
        sprint_key = f"sprint:{window.index}"
        planning = window.at(0)
        for order, it in enumerate(committed):
            at = planning + timedelta(minutes=5 + 2 * order)
            carried = bool(it.sprints)
            previous_section = "In Progress" if it.started_at else "To Do"
            it.events.append(PlanEvent(at, "added_to_project", self.sm, sprint_key))
            it.events.append(
                PlanEvent(
                    at + _MINUTE,
                    "sprint_changed",
                    self.sm,
                    old=self.windows[it.sprints[-1]].name if carried else None,
                    new=window.name,
                )
            )
            if not carried:
                it.events.append(PlanEvent(at + 2 * _MINUTE, "assigned", self.sm, new=it.assignee))
            it.sprints.append(window.index)
            it.sprint_sections[window.index] = previous_section

        by_person: dict[str, list[PlanItem]] = {}
        for it in committed:
            by_person.setdefault(it.assignee or self.sm, []).append(it)
        for person, items in by_person.items():
            lanes = [rng.uniform(0.05, 0.3), rng.uniform(0.2, 0.9)]
            spans: dict[int, tuple[float, float]] = {}
            # Carry-overs first (already under way), then the rest in commitment order.
            ordered = sorted(items, key=lambda it: (it.started_at is None, committed.index(it)))
            for it in (x for x in ordered if x.idx in done):
                cycle = _CYCLE_DAYS[it.points or 3] * rng.lognormvariate(0, 0.25)
                lane = min(range(2), key=lambda i: lanes[i])
                if it.started_at is not None:
                    start = 0.0
                    cycle *= rng.uniform(0.3, 0.6)  # only the remainder is left
                else:
                    start = lanes[lane] + rng.uniform(0.0, 0.3)
                lanes[lane] = start + cycle
                spans[it.idx] = (start, start + cycle)
            latest = max((end for _, end in spans.values()), default=0.0)
            scale = min(1.0, 9.6 / latest) if latest else 1.0
            for it in (x for x in ordered if x.idx in done):
                start, end = spans[it.idx]
                self._complete(window, it, person, start * scale, end * scale, sprint_key)
            free = min(lanes) * scale
            for it in (x for x in ordered if x.idx not in done):
                self._leave_unfinished(window, it, person, free, sprint_key)

    def _complete(
        self, window: SprintWindow, it: PlanItem, person: str, start: float, end: float, sprint_key: str
    ) -> None:
        rng = self.rng
        end = max(end, start + 0.05)
        began = max(workday_time(window.start, start), window.at(0) + 30 * _MINUTE)
        if it.started_at is None:
            self._start(it, person, began, sprint_key)
        else:
            # Carried in "In Progress": no new move, but people talk about it again.
            tone = rng.choice(("neutral", "frustrated"))
            it.events.append(PlanEvent(began, "comment", person, text=comment(rng, tone, self._peer(person))))
            if it.status == "Blocked":
                self._set_status(it, began + _MINUTE, person, "In Progress")
        finished = max(workday_time(window.start, end), began + 20 * _MINUTE)
        self._chatter(it, person, began, finished)
        if it.status == "In Progress" and rng.random() < 0.45:
            self._set_status(
                it,
                _to_minute(workday_between(began, finished, rng.uniform(0.7, 0.9))),
                person,
                "Ready for Review",
            )
        it.events.append(PlanEvent(finished, "section_changed", person, sprint_key, "In Progress", "Done"))
        self._move_backlog(it, finished + _MINUTE, person, "Done")
        self._set_status(it, finished + 2 * _MINUTE, person, "Done")
        completed_at = finished + 3 * _MINUTE
        it.events.append(PlanEvent(completed_at, "marked_complete", person))
        if rng.random() < 0.35:
            praise = comment(rng, "positive", self._peer(person))
            it.events.append(
                PlanEvent(
                    completed_at + timedelta(minutes=rng.randint(10, 240)),
                    "comment",
                    self._reviewer(person),
                    text=praise,
                )
            )
        it.completed_at = completed_at
        it.completed_by = person
        it.sprint_sections[window.index] = "Done"

    def _start(self, it: PlanItem, person: str, began: datetime, sprint_key: str) -> None:
        it.started_at = began
        it.events.append(PlanEvent(began, "section_changed", person, sprint_key, "To Do", "In Progress"))
        self._move_backlog(it, began + _MINUTE, person, "In Progress")
        self._set_status(it, began + 2 * _MINUTE, person, "In Progress")

    def _set_status(self, it: PlanItem, at: datetime, actor: str, status: str) -> None:
        it.events.append(PlanEvent(at, "status_changed", actor, old=it.status, new=status))
        it.status = status

    def _move_backlog(self, it: PlanItem, at: datetime, actor: str, section: str) -> None:
        it.events.append(PlanEvent(at, "section_changed", actor, "backlog", it.backlog_section, section))
        it.backlog_section = section

    def _reviewer(self, person: str) -> str:
        return self.rng.choice([p.key for p in self.people if p.key != person])

    def _chatter(self, it: PlanItem, person: str, began: datetime, finished: datetime) -> None:
        rng = self.rng
        long_running = (it.points or 3) >= 8
        for _ in range(rng.choices((0, 1, 2, 3), weights=(35, 35, 20, 10))[0]):
            at = _to_minute(workday_between(began, finished, rng.uniform(0.1, 0.9)))
            tone = rng.choices(
                ("neutral", "question", "frustrated", "positive"),
                weights=(45, 20, 25 if long_running else 10, 10),
            )[0]
            author = person if tone in ("neutral", "frustrated") else self._reviewer(person)
            it.events.append(PlanEvent(at, "comment", author, text=comment(rng, tone, self._peer(author))))

    def _leave_unfinished(
        self, window: SprintWindow, it: PlanItem, person: str, free: float, sprint_key: str
    ) -> None:
        rng = self.rng
        close = window.at(9.9)
        # Work left in the latest sprint is usually under way (stand-ups and planning see it).
        latest = window is self.windows[-1]
        start_chance = (0.75 if self._latest_started else 1.0) if latest else 0.6
        self._latest_started = self._latest_started or latest
        if it.started_at is None and rng.random() < start_chance:
            began = workday_time(window.start, min(9.3, max(free, rng.uniform(5.0, 8.5))))
            self._start(it, person, began, sprint_key)
            it.sprint_sections[window.index] = "In Progress"
            self._chatter(it, person, began, close)
        if it.started_at is None:
            return
        late = window.at(rng.uniform(9.4, 9.8))
        roll = rng.random()
        if roll < 0.2 and it.status == "In Progress":
            self._set_status(it, late, person, "Ready for Review")
            self._move_backlog(it, late + _MINUTE, person, "Ready for Review")
        elif roll < 0.55:
            blocker = next((self.items[d] for d in it.dependencies if not self.items[d].completed), None)
            it.events.append(
                PlanEvent(
                    late, "comment", person, text=blocked_comment(rng, blocker.title if blocker else None)
                )
            )
            self._set_status(it, late + _MINUTE, person, "Blocked")
        else:
            moan = comment(rng, "frustrated", self._peer(person))
            it.events.append(PlanEvent(late, "comment", person, text=moan))

    # ---- open backlog ------------------------------------------------------------------------
    def build_open_backlog(self, carried: list[int]) -> None:
        """Fresh items up to `backlog_size` open items in all, counting the last sprint's carry-over."""
        rng = self.rng
        fresh_count = max(0, self.backlog_size - len(carried))
        first_fresh = len(self.items)
        horizon = self.windows[0].start if self.windows else self.anchor
        for _ in range(fresh_count):
            days_back = rng.uniform(1, max(2.0, (self.anchor - horizon).days + 20))
            created = workday_time(self.anchor - timedelta(days=days_back + 7), rng.uniform(0, 4.9))
            created = min(created, workday_time(self.anchor, 0) - timedelta(hours=1))
            points = _weighted(rng, FIBONACCI, _OPEN_POINTS)
            self._new_item(created, points, criteria_p=0.6)
        fresh = self.items[first_fresh:]
        # About 8% of the new items still need an estimate.
        for it in rng.sample(fresh, round(0.08 * len(fresh))):
            it.points = None
        for it in fresh:
            it.backlog_section = self._section_for(it)
        self._add_open_dependencies(fresh)
        self._mark_blocked(fresh)
        for it in fresh:
            if rng.random() < 0.15:
                at = _to_minute(add_workdays(it.created_at, rng.uniform(0.2, 4)))
                at = min(at, workday_time(self.anchor, 0) - 30 * _MINUTE)
                author = rng.choice(self.people).key
                question = comment(rng, "question", self._peer(author))
                it.events.append(PlanEvent(at, "comment", author, text=question))

    def _section_for(self, it: PlanItem) -> str:
        if it.points is None:
            return "Icebox" if self.rng.random() < 0.3 else "Backlog"
        if it.priority == "Low" and self.rng.random() < 0.5:
            return "Icebox"
        if "Acceptance criteria:" in it.notes and self.rng.random() < 0.55:
            return "Ready"
        return "Backlog"

    def _add_open_dependencies(self, fresh: list[PlanItem]) -> None:
        rng = self.rng
        done = [it for it in self.items if it.completed]
        for it in fresh:
            wanted = rng.choices((0, 1, 2, 3), weights=(62, 26, 9, 3))[0]
            for _ in range(wanted):
                earlier_open = [o for o in self.items[: it.idx] if not o.completed]
                pool = done if (rng.random() < 0.35 and done) else earlier_open
                if not pool:
                    continue
                dep = rng.choice(pool)
                if dep.idx in it.dependencies or dep.idx >= it.idx:
                    continue
                if _links(self.items, dep) >= MAX_LINKS or len(it.dependencies) + 1 >= MAX_LINKS:
                    continue
                it.dependencies.append(dep.idx)

    def _mark_blocked(self, fresh: list[PlanItem]) -> None:
        rng = self.rng
        for it in fresh:
            waiting_on = [self.items[d] for d in it.dependencies if not self.items[d].completed]
            chance = 0.3 if waiting_on else 0.03
            if rng.random() >= chance:
                continue
            at = min(
                _to_minute(add_workdays(it.created_at, rng.uniform(0.5, 5))),
                workday_time(self.anchor, 0) - _MINUTE * 45,
            )
            at = max(at, it.created_at + _MINUTE)
            actor = self.sm
            self._set_status(it, at, actor, "Blocked")
            why = blocked_comment(rng, waiting_on[0].title if waiting_on else None)
            it.events.append(PlanEvent(at + _MINUTE, "comment", actor, text=why))

    def build_process_actions(self) -> list[ProcessAction]:
        actions = []
        picks = process_actions(self.rng, min(len(self.windows), 5))
        devs = [p.key for p in self.people if p.role != "Scrum Master"]
        for i, (title, why) in enumerate(picks):
            window = self.windows[-len(picks) + i]
            created = window.at(9.7)
            done_soon = i < len(picks) - 2  # the latest retros' actions are still open
            finished = _to_minute(add_workdays(created, self.rng.uniform(2, 7))) if done_soon else None
            actions.append(
                ProcessAction(
                    title, f"Retro action from {window.name}. {why}", created, self.rng.choice(devs), finished
                )
            )
        return actions


def _to_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _links(items: list[PlanItem], target: PlanItem) -> int:
    dependents = sum(target.idx in it.dependencies for it in items)
    return dependents + len(target.dependencies)


def build_plan(seed: int, anchor: date, *, backlog_size: int = 150, past_sprints: int = 6) -> WorkspacePlan:
    if past_sprints < 1:
        raise ValueError("past_sprints must be at least 1")
    sim = _Simulation(seed, anchor, backlog_size, past_sprints)
    sprints = sim.run_history()
    sim.build_open_backlog(sprints[-1].carried_over)
    actions = sim.build_process_actions()
    for it in sim.items:
        it.events.sort(key=lambda e: e.at)
    return WorkspacePlan(seed, anchor, sim.people, sim.base_velocity, sprints, sim.items, actions)
