"""A simulated team life: a seeded team lives with sprintpilot day by day through several sprints.

`sprintpilot eval life [--sprints 3] [--seed N]` moves the whole process's clock (time-machine)
through the weeks after the sandbox's anchor date and, each working day, does what the beat,
the webhooks and the people would do, through the same service functions they use:

- 08:30 the PM plans the next sprint when none is planned and the active one ends within three
  working days (the planner, as `sprintpilot plan` runs it);
- 09:00 the beat: the approvals sweep (resume stopped work, close expired/superseded proposals,
  apply decisions taken in Asana), the day's stand-ups, and the Asana events of the watched
  projects through the inbox → router → agents (triage of new backlog tasks, DoD reviews, …);
- during the day teammates work (in Asana, with their own tokens): they finish tasks at a pace
  drawn from their share of the plan, comment, and the PO adds backlog items; the PM re-runs a
  command or two (forecast, health, risk, review, triage), sometimes twice in a row;
- 16:30 each approval task's assignee approves, edits (rejects one change), rejects or ignores it;
  17:00 the sweep again; 18:00 the end-of-sprint retro job and the events once more.

At the end it checks what a team would notice (each target is 0 except the nudge bound): tasks
in two open sprints, duplicate writes for the same facts, open approval tasks past their due
time, proposals not in a final state, nudges per person per day (≤ 1), contradictions between a
plan and the stand-ups of its sprint, and it reports writes per day by kind.
"""

from __future__ import annotations

import random
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

FINAL = {
    "applied",
    "partially_applied",
    "rejected",
    "failed",
    "denied",
    "empty",
    "error",
    "expired",
    "superseded",
    "conflict",
}
_MARK = re.compile(r"⟨sp:[0-9a-f]+⟩")
_SPACE = re.compile(r"\s+")
COMMENTS = (
    "Pushed a first version, tests next.",
    "Waiting on the API team for the new endpoint.",
    "Pairing with design on this tomorrow.",
    "Blocked: staging is down again.",
    "Review comments addressed.",
)
RERUNS = ("forecast", "health", "risk", "review", "triage")


class Check(BaseModel):
    name: str
    value: float
    target: str
    ok: bool


class KindRow(BaseModel):
    kind: str
    total: int
    per_day_mean: float
    per_day_max: int


class LifeResult(BaseModel):
    seed: int
    sprints: int
    days: int
    runs: int
    decisions: dict[str, int]
    checks: list[Check]
    writes_by_kind: list[KindRow]
    details: dict[str, Any]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


@dataclass
class LifeConfig:
    sprints: int = 3
    seed: int = 7
    # How an approval task's assignee answers it (the rest is ignored until it expires).
    approve: float = 0.6
    edit: float = 0.15
    reject: float = 0.1
    reruns_per_day: int = 2
    new_backlog_per_day: float = 0.5


@dataclass
class Tally:
    runs: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    double_booked: set[str] = field(default_factory=set)
    overdue_approvals_max: int = 0
    overdue_seen: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


def _norm(text: str) -> str:
    return _SPACE.sub(" ", _MARK.sub("", text or "")).strip()


class Life:
    """One simulated team on one runtime; each method is one thing that happens in a day."""

    def __init__(
        self, rt: Any, cfg: LifeConfig, move: Callable[[datetime], None], progress: Callable[[str], None]
    ):
        self.rt = rt
        self.cfg = cfg
        self.move = move
        self.say = progress
        self.rng = random.Random(cfg.seed)
        self.tally = Tally()
        self.ws = rt.resolve_workspace()
        self.backlog = rt.asana.find_project(self.ws, "Product Backlog")
        self.watched: list[str] = []
        self.done_points: dict[str, float] = defaultdict(float)
        self.pace: dict[str, float] = {}

    # --- helpers ------------------------------------------------------------------------------

    def at(self, day: date, hour: int, minute: int = 0) -> None:
        self.move(datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC))

    def client_as(self, user_gid: str | None) -> Any:
        from tools.asana.client import AsanaClient

        token = self.rt.sandbox.token_for(user_gid) if user_gid else None
        return AsanaClient(self.rt.sandbox.base_url, token) if token else None

    def sprints(self, today: date) -> dict[str, list[Any]]:
        from tools.planning.phase import is_sprint_name, sprint_phase

        out: dict[str, list[Any]] = defaultdict(list)
        for p in self.rt.asana.projects(self.ws):
            if is_sprint_name(p.name) and p.start_on and p.due_on:
                out[sprint_phase(p, today)].append(p)
        return out

    def run(self, agent: str, args: dict[str, Any], *, approver_project: str | None = None) -> Any:
        import uuid

        from graphs.runner import start_run
        from service.approvals import supersede_older

        approver = self.rt.approver_for(self.ws, approver_project) if approver_project else None
        ctx = self.rt.context(actor=f"agent:{agent}", approver_gid=approver)
        thread_id = uuid.uuid4().hex
        self.tally.runs += 1
        outcome = start_run(self.rt.graph, ctx, thread_id, {"agent": agent, "args": args, "trigger": "cli"})
        if outcome.status == "awaiting_approval":
            supersede_older(self.rt, thread_id)
        if outcome.status == "error":
            self.tally.errors.append(f"{agent}: {(outcome.report or {}).get('error')}")
        return outcome

    # --- the day ------------------------------------------------------------------------------

    def plan_if_due(self, today: date) -> None:
        phases = self.sprints(today)
        if phases.get("planned"):
            return
        active = phases.get("active", [])
        if active and min(p.due_on for p in active) - today > timedelta(days=4):
            return
        self.say(f"{today} plan the next sprint")
        self.run("planner", {"project": self.backlog.gid}, approver_project=self.backlog.gid)

    def beat_sweep(self) -> None:
        from service.approvals import close_stale, resume_interrupted, sync_from_asana

        resume_interrupted(self.rt)
        close_stale(self.rt)
        sync_from_asana(self.rt, lock_wait_s=0)

    def beat_standups(self, today: date) -> None:
        from service.schedules.standup import daily_standups

        active = [p.gid for p in self.sprints(today).get("active", [])]
        self.tally.runs += len(active)
        for result in daily_standups(self.rt, active):
            if result.status == "error":
                self.tally.errors.append(f"standup: {(result.report or {}).get('error')}")

    def events(self, today: date) -> None:
        from service.events.reconcile import reconcile_project
        from service.events.relay import relay_all
        from service.worker.processing import process_inbox_event

        phases = self.sprints(today)
        watch = [self.backlog.gid] + [p.gid for p in phases.get("active", []) + phases.get("planned", [])]
        for gid in watch:
            reconcile_project(self.rt.engine, self.rt.asana, gid)
        inbox: list[int] = []
        relay_all(self.rt.engine, lambda row: inbox.append(row.inbox_id))
        for inbox_id in inbox:
            self.tally.runs += 1
            try:
                process_inbox_event(self.rt, inbox_id, lock_wait_s=0)
            except Exception as err:  # noqa: BLE001 - counted, the day goes on
                self.tally.errors.append(f"event {inbox_id}: {err}")

    def teammates_work(self, today: date) -> None:
        """Each assignee burns points at their pace; finished tasks are completed in Asana."""
        for sprint in self.sprints(today).get("active", []):
            tasks = [t for t in self.rt.asana.project_tasks(sprint.gid) if not t.completed and t.assignee]
            by_person: dict[str, list[Any]] = defaultdict(list)
            for t in tasks:
                by_person[t.assignee.gid].append(t)
            for person, mine in sorted(by_person.items()):
                pace = self.pace.setdefault(person, self.rng.uniform(1.5, 4.0))
                self.done_points[person] += pace * self.rng.uniform(0.5, 1.3)
                client = self.client_as(person)
                if client is None:
                    continue
                with client:
                    for task in sorted(mine, key=lambda t: (t.due_on or date.max, t.gid)):
                        points = self._points(task, sprint.gid)
                        if self.done_points[person] < points:
                            break
                        self.done_points[person] -= points
                        client.update_task(task.gid, {"completed": True})
                    if mine and self.rng.random() < 0.3:
                        client.add_comment(self.rng.choice(mine).gid, self.rng.choice(COMMENTS))

    def _points(self, task: Any, project_gid: str) -> float:
        from tools.asana.field_names import STORY_POINTS

        for cf in task.custom_fields or []:
            if (cf.name or "").casefold() == STORY_POINTS.casefold() and cf.number_value is not None:
                return float(cf.number_value)
        return 3.0

    def po_adds_backlog(self, today: date) -> None:
        if self.rng.random() >= self.cfg.new_backlog_per_day:
            return
        owner = self.backlog.owner.gid if self.backlog.owner else None
        client = self.client_as(owner)
        if client is None:
            return
        with client:
            n = self.rng.randrange(1000)
            client.create_task(
                name=f"Customer request {today.isoformat()}-{n}: export invoices as CSV",
                projects=[self.backlog.gid],
                notes="As a finance user I want to export invoices as CSV so that I can reconcile.",
            )

    def pm_reruns(self, today: date) -> None:
        for _ in range(self.cfg.reruns_per_day):
            what = self.rng.choice(RERUNS)
            twice = self.rng.random() < 0.4  # people re-run commands
            for _ in range(2 if twice else 1):
                self._rerun(what, today)

    def _rerun(self, what: str, today: date) -> None:
        if what == "forecast":
            self.run("forecast", {"project": self.backlog.gid})
        elif what == "health":
            self.run("health", {})
        elif what == "triage":
            self.run("triage", {"project": self.backlog.gid, "unestimated": True, "limit": 3})
        elif what == "risk":
            active = self.sprints(today).get("active", [])
            if active:
                self.run("dependencies", {"projects": [active[0].gid]}, approver_project=active[0].gid)
        elif what == "review":
            active = self.sprints(today).get("active", [])
            done = [t for p in active for t in self.rt.asana.project_tasks(p.gid) if t.completed]
            if done:
                task = sorted(done, key=lambda t: t.gid)[0]
                self.run("qa", {"task": task.gid, "project": active[0].gid}, approver_project=active[0].gid)

    def people_decide(self) -> None:
        from service.approvals import build_decisions, decide, pending

        for item in pending(self.rt):
            gid = item.request.get("approval_task_gid") or item.proposal.approval_task_gid
            roll = self.rng.random()
            cfg = self.cfg
            if roll < cfg.approve + cfg.reject and gid:
                status = "approved" if roll < cfg.approve else "rejected"
                task = self.rt.asana.task(gid)
                client = self.client_as(task.assignee.gid if task.assignee else None)
                if client is None:
                    continue
                with client:
                    client.update_task(gid, {"approval_status": status})
                self.tally.decisions[f"{status} in Asana"] += 1
            elif roll < cfg.approve + cfg.reject + cfg.edit:
                asks = item.request.get("action_requests") or []
                reject = {len(asks): "not this one"} if len(asks) > 1 else {}
                decisions = build_decisions(item.request, reject=reject)
                try:
                    decide(self.rt, item.proposal, decisions, "cli:pm", item.request.get("digest"))
                    self.tally.decisions["edited (one change rejected) in the CLI"] += 1
                except Exception as err:  # noqa: BLE001 - e.g. decided meanwhile; counted
                    self.tally.errors.append(f"decide: {err}")
            else:
                self.tally.decisions["ignored"] += 1

    def retro_job(self) -> None:
        from service.schedules.retro import run_end_of_sprint_retros

        self.tally.runs += len(run_end_of_sprint_retros(self.rt))

    def observe(self, today: date) -> None:
        """Daily checks that need the state of the day: double-booked tasks, overdue approvals."""
        phases = self.sprints(today)
        open_sprints = phases.get("planned", []) + phases.get("active", [])
        seen: Counter[str] = Counter()
        for p in open_sprints:
            for t in self.rt.asana.project_tasks(p.gid):
                if not t.completed:
                    seen[t.gid] += 1
        self.tally.double_booked |= {g for g, n in seen.items() if n > 1}
        overdue = self.overdue_approvals()
        self.tally.overdue_approvals_max = max(self.tally.overdue_approvals_max, len(overdue))
        self.tally.overdue_seen |= {f"{today}: {name}" for name in overdue}

    def overdue_approvals(self) -> list[str]:
        """Open approval tasks whose due time has passed (names)."""
        now = datetime.now(UTC)
        store = self.rt.sandbox.store
        out = []
        for t in store.tasks.values():
            if getattr(t, "resource_subtype", "") != "approval" or getattr(t, "completed", False):
                continue
            due = getattr(t, "due_at", None)
            if due and datetime.fromisoformat(str(due).replace("Z", "+00:00")) < now:
                out.append(str(t.name))
        return out


def simulate(
    cfg: LifeConfig, data_dir: Path | None = None, progress: Callable[[str], None] = lambda s: None
) -> LifeResult:
    from evals.clock import travel
    from sandbox.generator_calendar import DEFAULT_ANCHOR
    from service.runtime import open_runtime
    from service.settings import load_settings

    started = time.perf_counter()
    with contextmanager_dir(data_dir) as folder:
        start = DEFAULT_ANCHOR
        with travel(datetime(start.year, start.month, start.day, 7, 0, tzinfo=UTC)) as clock:
            settings = load_settings(data_dir=folder)
            with open_runtime(settings, sandbox_seed=cfg.seed) as rt:
                life = Life(rt, cfg, clock.move_to, progress)
                days = cfg.sprints * 14
                for n in range(days):
                    today = start + timedelta(days=n)
                    workday = today.weekday() < 5
                    if workday:
                        life.at(today, 8, 30)
                        life.plan_if_due(today)
                    life.at(today, 9)
                    life.beat_sweep()
                    if workday:
                        life.beat_standups(today)
                        life.events(today)
                        life.at(today, 11)
                        life.teammates_work(today)
                        life.po_adds_backlog(today)
                        life.pm_reruns(today)
                        life.at(today, 16, 30)
                        life.people_decide()
                        life.at(today, 17)
                        life.beat_sweep()
                    life.at(today, 18)
                    life.retro_job()
                    if workday:
                        life.events(today)
                    # The beat's approvals sync runs every few minutes: the state is looked at
                    # right after one pass, as a person opening Asana in the evening would see it.
                    life.at(today, 18, 30)
                    life.beat_sweep()
                    life.observe(today)
                    progress(f"{today} day {n + 1}/{days}: {life.tally.runs} runs so far")
                end = start + timedelta(days=days)
                life.at(end, 9)
                life.beat_sweep()
                life.observe(end)
                result = measure(life, days)
    result.seconds = round(time.perf_counter() - started, 1)
    return result


@contextmanager
def contextmanager_dir(data_dir: Path | None) -> Iterator[Path]:
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        yield data_dir
        return
    with tempfile.TemporaryDirectory(prefix="sprintpilot-life-") as tmp:
        yield Path(tmp)


def measure(life: Life, days: int) -> LifeResult:
    from sqlalchemy import select

    from graphs.ports import wrote_to_asana
    from service.db.engine import read_session
    from service.db.models import LedgerRow

    rt = life.rt
    store = rt.sandbox.store
    bot = rt.asana.me().gid
    # Duplicate writes: the same facts twice on one parent (markers and whitespace aside).
    dup = 0
    comments = Counter(
        (s.target, _norm(s.text))
        for s in store.stories.values()
        if s.created_by == bot and s.type == "comment"
    )
    dup += sum(n - 1 for n in comments.values() if n > 1)
    updates = Counter(
        (u.parent, u.title, _norm(u.text)) for u in store.status_updates.values() if u.created_by == bot
    )
    dup += sum(n - 1 for n in updates.values() if n > 1)
    files = Counter((a.parent, a.name, a.content_b64) for a in store.attachments.values())
    dup += sum(n - 1 for n in files.values() if n > 1)
    # Two open approval tasks for one proposal subject at the end.
    records = rt.repo.list_proposals(limit=100_000)
    waiting_subjects = Counter(
        (r.proposal.agent, r.proposal.subject)
        for r in records
        if r.status.value == "pending" and r.proposal.subject
    )
    dup += sum(n - 1 for n in waiting_subjects.values() if n > 1)

    now = datetime.now(UTC)
    due = timedelta(hours=rt.settings.approval_due_hours)
    not_final = 0
    for r in records:
        status = r.status.value
        created = r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=UTC)
        if status not in FINAL and not (status == "pending" and now - created <= due):
            not_final += 1

    # Writes that reached Asana, per simulated day and kind (repeats and up-to-date no-ops aside).
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    nudges: Counter[tuple[str, str]] = Counter()
    with read_session(rt.engine) as session:
        rows = session.scalars(select(LedgerRow).where(LedgerRow.status == "done")).all()
        by_key = {(r.proposal_id, r.action_index): r for r in rows}
        for r in rows:
            if wrote_to_asana(r.result):
                per_day[r.kind][r.updated_at.date().isoformat()] += 1
    for rec in records:
        for i, action in enumerate(rec.proposal.actions):
            facts = action.facts or {}
            row = by_key.get((rec.id, i))
            if "nudge" in facts and row is not None and (row.result or {}).get("message") == "applied":
                nudges[(str(facts["nudge"]), str(facts.get("day")))] += 1
    kinds = [
        KindRow(
            kind=kind,
            total=sum(c.values()),
            per_day_mean=round(sum(c.values()) / max(days, 1), 2),
            per_day_max=max(c.values()),
        )
        for kind, c in sorted(per_day.items())
    ]
    contradictions, standups_checked = count_contradictions(life)
    t = life.tally
    checks = [
        Check(
            name="tasks in two open sprints", value=len(t.double_booked), target="0", ok=not t.double_booked
        ),
        Check(name="duplicate writes for the same facts", value=dup, target="0", ok=dup == 0),
        Check(
            name="open approval tasks past their due time (max on any day)",
            value=t.overdue_approvals_max,
            target="0",
            ok=t.overdue_approvals_max == 0,
        ),
        Check(name="proposals not in a final state", value=not_final, target="0", ok=not_final == 0),
        Check(
            name="nudges per person per day (max)",
            value=max(nudges.values(), default=0),
            target="≤ 1",
            ok=max(nudges.values(), default=0) <= 1,
        ),
        Check(
            name="contradictions between plan and stand-up",
            value=contradictions,
            target="0",
            ok=contradictions == 0,
        ),
        Check(name="failed runs", value=len(t.errors), target="0", ok=not t.errors),
    ]
    statuses = Counter(r.status.value for r in records)
    return LifeResult(
        seed=life.cfg.seed,
        sprints=life.cfg.sprints,
        days=days,
        runs=t.runs,
        decisions=dict(t.decisions),
        checks=checks,
        writes_by_kind=kinds,
        details={
            "standups_checked_against_their_plan": standups_checked,
            "overdue_approvals": sorted(t.overdue_seen),
            "proposal_statuses": dict(statuses),
            "errors": t.errors[:20],
            "double_booked": sorted(t.double_booked),
        },
        seconds=0.0,
    )


def count_contradictions(life: Life) -> tuple[int, int]:
    """(contradictions, stand-ups checked): each stand-up of a sprint this life planned, held
    against that plan (tools/standup/coherence.py)."""
    from tools.standup.coherence import PlannedSprint, contradictions

    rt = life.rt
    records = rt.repo.list_proposals(limit=100_000)
    plans: dict[str, PlannedSprint] = {}
    for rec in records:
        if rec.proposal.agent != "planner" or rec.status.value not in ("applied", "partially_applied"):
            continue
        entries = {e.action_index: e for e in rt.journal.entries(rec.id)}
        for i, action in enumerate(rec.proposal.actions):
            entry = entries.get(i)
            gid = (entry.result or {}).get("gid") if entry is not None else None
            if action.kind.value == "create_project" and gid:
                plans[str(gid)] = PlannedSprint.from_plan_evidence(rec.proposal.evidence)
    found = checked = 0
    for rec in records:
        body = rec.proposal
        if body.agent == "standup" and body.actions and body.scope.project_gids[0] in plans:
            checked += 1
            found += len(contradictions(plans[body.scope.project_gids[0]], body))
    return found, checked


def format_table(result: LifeResult) -> str:
    """The checks, then writes per day by kind, as plain markdown tables (they go in the README)."""
    lines = [
        f"Simulated team life: {result.sprints} sprint(s), {result.days} days, seed {result.seed}, "
        f"{result.runs} agent runs and events, {result.seconds} s",
        "",
        "| check | value | target | ok |",
        "|---|---:|---|---|",
    ]
    lines += [f"| {c.name} | {c.value:g} | {c.target} | {'yes' if c.ok else 'NO'} |" for c in result.checks]
    lines += ["", "| writes by kind | total | per day (mean) | per day (max) |", "|---|---:|---:|---:|"]
    lines += [
        f"| {k.kind} | {k.total} | {k.per_day_mean:.2f} | {k.per_day_max} |" for k in result.writes_by_kind
    ]
    decided = ", ".join(f"{k}: {v}" for k, v in sorted(result.decisions.items())) or "none"
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(result.details.get("proposal_statuses", {}).items()))
    lines += ["", f"Decisions: {decided}.", f"Proposals by final status: {statuses}."]
    if result.details.get("errors"):
        lines += ["", "Failed runs:", *[f"- {e}" for e in result.details["errors"]]]
    return "\n".join(lines)
