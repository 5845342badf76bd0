"""Fault soak of the approval promise: many proposals, many hands, faults, exactly once.

    python -m evals.soak_approvals --database-url postgresql://postgres@127.0.0.1/test [--proposals 200]

Each proposal (a small "soak" specialist on the seeded sandbox) asks to change one task's due
date or name (approval class) and posts one comment (auto). While the sandbox answers a share of requests with
429 and 503, deciders race in threads: approvals and rejections through `decide` (the CLI's
path) and over HTTP (the API), approvals in Asana by the assignee, approvals in Asana by someone
who may not approve, and pairs of opposite decisions at the same instant. Two "workers" run the
sweep (`resume_interrupted`, `sync_from_asana`) the whole time. At the end the faults stop, the
sweep settles what is left, and approvals nobody decided expire.

Checked and printed, counted in the sandbox's own data: every proposal in a final state; each
approved date change written exactly once (one change story per task); no date change from a
rejected, expired or wrongly-approved proposal; no comment posted twice; `audit verify` OK.
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from agents.proposal import Action, ActionKind, Proposal, Scope
from graphs.context import RunContext
from graphs.registry import Specialist, SpecialistRegistry, Target
from graphs.runner import start_run
from sandbox.faults import FaultConfig
from sandbox.server import SandboxServer
from service.runtime import Runtime

SOAK = "soak"
TOKEN = "soak-api-token-0123456789"
FINAL = {"applied", "partially_applied", "rejected", "expired", "superseded", "failed", "conflict", "denied"}
PATHS = ("cli_approve", "api_approve", "cli_reject", "asana_approve", "asana_wrong", "race")
WEIGHTS = (30, 20, 15, 15, 10, 10)


class SoakArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: str
    field: Literal["due_on", "name"]
    value: str
    n: int


def _run(args: dict[str, Any], ctx: RunContext) -> Proposal:
    a = SoakArgs.model_validate(args)
    task = ctx.asana.task(a.task)
    project = next(m.project.gid for m in task.memberships if m.project)
    before = getattr(task, a.field)
    before_value = before.isoformat() if isinstance(before, date) else before
    return Proposal(
        agent=SOAK,
        scope=Scope(workspace_gid=ctx.resolve_workspace(), project_gids=[project]),
        title=f"Soak {a.n}: move {task.name}",
        summary_markdown=f"Move {a.field} of {task.name} to {a.value}.",
        actions=[
            Action(
                kind=ActionKind.UPDATE_TASK,
                target=a.task,
                params={a.field: a.value},
                before={a.field: before_value},
                reason="soak: a change that needs approval",
            ),
            Action(kind=ActionKind.POST_COMMENT, target=a.task, params={"text": f"soak note {a.n}"}),
        ],
    )


def soak_specialist() -> Specialist:
    return Specialist(
        SOAK,
        "moves one task's date (fault soak of the approval promise)",
        _run,
        SoakArgs,
        verbs=("soak",),
        expects=Target(kind="task", field="task"),
    )


@dataclass
class Planned:
    proposal_id: str
    thread_id: str
    task: str
    field: str
    path: str


@dataclass
class SoakResult:
    proposals: int
    seconds: float
    statuses: Counter[str]
    paths: Counter[str]
    faults: dict[str, int]
    resumed_by_sweep: int
    approved_changes: int
    duplicate_changes: int
    changes_without_approval: int
    duplicate_comments: int
    not_final: int
    audit_ok: bool
    audit_rows: int
    interrupted_decisions: int
    lost_races: int
    left_after_faults: int = 0
    audit_problem: str | None = None  # the verifier's first bad row and reason
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.not_final == 0
            and self.duplicate_changes == 0
            and self.changes_without_approval == 0
            and self.duplicate_comments == 0
            and self.audit_ok
            and not self.errors
        )

    def table(self) -> str:
        rows = [
            ("proposals", self.proposals),
            ("final states", ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items()))),
            ("not in a final state (goal 0)", self.not_final),
            ("decision paths", ", ".join(f"{k} {v}" for k, v in sorted(self.paths.items()))),
            ("faults injected (429 / 5xx)", f"{self.faults.get('429', 0)} / {self.faults.get('5xx', 0)}"),
            ("decisions interrupted by a fault, finished by the sweep", self.interrupted_decisions),
            ("lost races (told who decided)", self.lost_races),
            ("unfinished when the faults stopped (settled then)", self.left_after_faults),
            ("approved changes written", self.approved_changes),
            ("approved changes written twice (goal 0)", self.duplicate_changes),
            ("changes without an allowed approval (goal 0)", self.changes_without_approval),
            ("comments posted twice (goal 0)", self.duplicate_comments),
            (
                "audit verify",
                f"{'OK' if self.audit_ok else 'TAMPERED'} ({self.audit_rows} rows)"
                + (f": {self.audit_problem}" if self.audit_problem else ""),
            ),
            ("wall time", f"{self.seconds:.1f} s"),
        ]
        lines = ["| check | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
        return "\n".join(lines)


def _candidates(rt: Runtime, n: int) -> list[tuple[str, str]]:
    """Distinct (task, field) pairs of open backlog and sprint tasks (its due date, its name): no
    two proposals touch the same value, so each outcome is counted from that task's change stories."""
    tasks = []
    for project in rt.asana.projects(rt.resolve_workspace()):
        tasks += [t.gid for t in rt.asana.project_tasks(project.gid) if not t.completed]
    unique = list(dict.fromkeys(tasks))
    pairs = [(t, "due_on") for t in unique] + [(t, "name") for t in unique]
    if len(pairs) < n:
        raise SystemExit(f"the seeded workspace offers {len(pairs)} task values; ask for at most that many")
    return pairs[:n]


def _token_for(server: SandboxServer, user_gid: str) -> str | None:
    return next((t for t, gid in server.store.tokens.items() if gid == user_gid), None)


def _change_stories(server: SandboxServer, task: str, field_name: str) -> int:
    subtype = "due_date_changed" if field_name == "due_on" else "name_changed"
    store = server.store
    return sum(1 for s in store.stories.values() if s.target == task and s.resource_subtype == subtype)


def _status_of(rt: Runtime, p: Planned) -> str:
    record = rt.repo.get_proposal(p.proposal_id)
    return record.status.value if record else "missing"


def _unsettled(rt: Runtime, planned: list[Planned]) -> int:
    """Proposals decided (or automatic) but not finished yet; wrongly approved ones wait on."""
    out = 0
    for p in planned:
        status = _status_of(rt, p)
        running = status in ("approved", "partially_approved", "applying")
        if running or (status == "pending" and p.path != "asana_wrong"):
            out += 1
    return out


def run_soak(
    rt: Runtime,
    api_url: str,
    *,
    proposals: int,
    seed: int,
    progress: Callable[[str], None],
    sandbox: SandboxServer | None = None,
    sweepers: int = 2,
    settle_wait_s: float = 90.0,
) -> SoakResult:
    """`sandbox`: the Asana sandbox server (default: the runtime's embedded one). `sweepers`:
    threads running the sweep in this process; 0 when real Celery workers sweep (`--celery`)."""
    from service.approvals import (
        ApplyInterrupted,
        ApprovalError,
        NotAnApprover,
        build_decisions,
        close_stale,
        decide,
        find_proposal,
        pending_request,
        resume_interrupted,
        sync_from_asana,
    )
    from service.db.audit import audit_key_of
    from service.db.audit_verify import verify_chain
    from service.events.locks import ThreadLocked
    from tools.asana.client import AsanaClient
    from tools.asana.errors import is_transient
    from tools.errors import SprintpilotError

    server = sandbox or (rt.sandbox.server if rt.sandbox is not None else None)
    assert server is not None, "the soak needs a sandbox it can count in"
    rng = random.Random(seed)
    started = time.monotonic()
    counters: Counter[str] = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    faults = server.services.faults
    faults.configure(FaultConfig(rate_429=0.04, rate_5xx=0.06, retry_after_s=0, seed=seed))

    ws = rt.resolve_workspace()
    bot = rt.asana.me().gid
    # API decisions are an approver's, an Asana user (issue 18): the one every approval task is
    # assigned to, who also decides in Asana; anyone else's Asana change is set back.
    approver = next(u for u in rt.asana.users(ws) if u.gid != bot and u.email)
    rt.settings = rt.settings.model_copy(update={"approver": approver.email})
    # The operator at the terminal is that approver too (a CLI decision by anyone else is refused).
    cli_who = f"cli:{approver.email}"
    planned: list[Planned] = []
    for n, (task, field_name) in enumerate(_candidates(rt, proposals)):
        thread = f"soak-{uuid.uuid4().hex[:12]}"
        if field_name == "due_on":
            value = (date(2027, 1, 1) + timedelta(days=n % 300)).isoformat()
        else:
            value = f"{rt.asana.task(task).name} (soak {n})"
        args = {"task": task, "field": field_name, "value": value, "n": n}
        project = next(m.project.gid for m in rt.asana.task(task).memberships if m.project)
        ctx = rt.context(actor=f"agent:{SOAK}", approver_gid=rt.approver_for(ws, project))
        try:
            out = start_run(rt.graph, ctx, thread, {"agent": SOAK, "args": args, "trigger": "eval"})
            pid = str((out.interrupt or {}).get("proposal_id") or (out.report or {}).get("proposal_id"))
        except SprintpilotError as err:
            if not is_transient(err):
                raise
            pid = ""  # stopped in publish; the sweep finishes it
        if not pid:
            runs = [p for p in rt.repo.list_proposals(limit=10) if p.thread_id == thread]
            pid = runs[0].id if runs else ""
        if pid:
            planned.append(Planned(pid, thread, task, field_name, rng.choices(PATHS, WEIGHTS)[0]))
        if n % 25 == 0:
            progress(f"proposed {n + 1}/{proposals}")

    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            try:
                done = resume_interrupted(rt)
                sync_from_asana(rt, lock_wait_s=0)
                with lock:
                    counters["resumed"] += len(done)
            except (ThreadLocked, SprintpilotError):
                pass  # transient: the next pass looks again
            except Exception as err:  # noqa: BLE001 - recorded and reported, the soak goes on
                with lock:
                    errors.append(f"worker: {type(err).__name__}: {err}")
            stop.wait(0.2)

    def wait_pending(p: Planned) -> dict[str, Any] | None:
        for _ in range(100):
            try:
                return pending_request(rt, find_proposal(rt, p.proposal_id))
            except ApprovalError:
                record = rt.repo.get_proposal(p.proposal_id)
                if record is not None and record.status.value != "pending":
                    return None
                time.sleep(0.1)  # still publishing (or stopped there, being resumed)
        return None

    def attempt(fn: Callable[[], Any]) -> None:
        for _ in range(20):
            try:
                fn()
                return
            except ApplyInterrupted:
                with lock:
                    counters["interrupted"] += 1
                return
            except NotAnApprover as err:  # a refused decider is the soak's mistake, never a lost race
                with lock:
                    errors.append(f"refused: {err}")
                return
            except ApprovalError:
                with lock:
                    counters["lost"] += 1
                return
            except ThreadLocked:
                time.sleep(0.1)
            except SprintpilotError as err:
                if not is_transient(err):
                    raise
                time.sleep(0.1)

    def asana_set(user: str, gid: str, status: str) -> None:
        token = _token_for(server, user)
        assert token is not None
        with AsanaClient(server.base_url, token) as client:
            for _ in range(20):
                try:
                    client.update_task(gid, {"approval_status": status})
                    return
                except SprintpilotError:
                    time.sleep(0.05)

    def api_decide(pid: str, request: dict[str, Any], kind: str, who: str) -> None:
        body = {
            "decisions": [{"type": kind}] * len(request["action_requests"]),
            "decided_by": who,
            "digest": request["digest"],
        }
        with httpx.Client(base_url=api_url, timeout=120) as client:
            reply = client.post(f"/approvals/{pid}", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
        if reply.status_code == 409:
            with lock:
                counters["lost"] += 1
        elif reply.status_code == 503:
            with lock:
                counters["interrupted"] += 1
        elif reply.status_code != 200:
            with lock:
                errors.append(f"api {reply.status_code}: {reply.text[:200]}")

    def decide_one(p: Planned) -> None:
        request = wait_pending(p)
        if request is None:
            return
        record = find_proposal(rt, p.proposal_id)
        approve = build_decisions(request)
        reject = build_decisions(request, reject_all=True, message="soak: no")
        digest = request.get("digest")
        gid = request.get("approval_task_gid") or ""
        if p.path == "cli_approve":
            attempt(lambda: decide(rt, record, approve, cli_who, digest))
        elif p.path == "cli_reject":
            attempt(lambda: decide(rt, record, reject, cli_who, digest))
        elif p.path == "api_approve":
            api_decide(p.proposal_id, request, "approve", str(approver.email))
        elif p.path == "asana_approve":
            assignee = rt.asana.task(gid).assignee
            asana_set(assignee.gid if assignee else bot, gid, "approved")
        elif p.path == "asana_wrong":
            assignee = rt.asana.task(gid).assignee
            others = [
                u.gid for u in rt.asana.users(ws) if u.gid not in {bot, assignee.gid if assignee else ""}
            ]
            asana_set(next(u for u in others if _token_for(server, u)), gid, "approved")
        else:  # race: the CLI approves while the API rejects, at the same instant
            both = threading.Barrier(2)

            def cli() -> None:
                both.wait()
                attempt(lambda: decide(rt, record, approve, cli_who, digest))

            def api() -> None:
                both.wait()
                api_decide(p.proposal_id, request, "reject", str(approver.email))

            racers = [threading.Thread(target=cli), threading.Thread(target=api)]
            for t in racers:
                t.start()
            for t in racers:
                t.join(300)

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(sweepers)]
    for w in workers:
        w.start()
    with ThreadPoolExecutor(max_workers=4) as pool:
        for i, _ in enumerate(pool.map(decide_one, planned)):
            if i % 25 == 0:
                progress(f"decided {i + 1}/{len(planned)}")
    time.sleep(1.0)
    if not sweepers:  # real workers sweep: give them time to finish everything decided so far
        deadline = time.monotonic() + settle_wait_s
        while time.monotonic() < deadline and _unsettled(rt, planned):
            time.sleep(1.0)
    stop.set()
    for w in workers:
        w.join(60)
    left_for_this_process = _unsettled(rt, planned)

    # Faults end; what is left settles, and what nobody (allowed) decided expires.
    injected = dict(faults.injected)
    faults.configure(FaultConfig())
    for _ in range(3):
        counters["resumed"] += len(resume_interrupted(rt, lock_wait_s=5))
        sync_from_asana(rt)
    # A real worker may hold a thread's lock right now (handling the echo of a wrong Asana
    # approval): close_stale skips a locked thread for the next sweep, so sweep until none waits.
    later = rt.context().now() + timedelta(hours=rt.settings.approval_due_hours + 1)
    sweep_deadline = time.monotonic() + 60.0
    while True:
        close_stale(rt, now=later, supersede=False)
        waiting = [p for p in planned if _status_of(rt, p) not in FINAL]
        if not waiting or time.monotonic() > sweep_deadline:
            break
        time.sleep(0.5)

    counters["left"] = left_for_this_process
    statuses: Counter[str] = Counter()
    approved_changes = duplicate_changes = unapproved_changes = 0
    for p in planned:
        status = _status_of(rt, p)
        statuses[status] += 1
        changes = _change_stories(server, p.task, p.field)
        allowed = status in ("applied", "partially_applied") and p.path in (
            "cli_approve",
            "api_approve",
            "asana_approve",
            "race",
        )
        if allowed:
            approved_changes += min(changes, 1)
            duplicate_changes += max(0, changes - 1)
        else:
            unapproved_changes += changes
    markers = Counter(
        m for s in server.store.stories.values() for m in re.findall(r"⟨sp:[0-9a-f]+⟩", s.text or "")
    )
    verified = verify_chain(rt.engine, key=audit_key_of(rt.engine))
    return SoakResult(
        proposals=len(planned),
        seconds=time.monotonic() - started,
        statuses=statuses,
        paths=Counter(p.path for p in planned),
        faults=injected,
        resumed_by_sweep=counters["resumed"],
        approved_changes=approved_changes,
        duplicate_changes=duplicate_changes,
        changes_without_approval=unapproved_changes,
        duplicate_comments=sum(1 for c in markers.values() if c > 1),
        not_final=sum(n for s, n in statuses.items() if s not in FINAL),
        audit_ok=verified.ok,
        audit_rows=verified.rows_checked,
        audit_problem=None if verified.ok else f"row {verified.first_bad_id}: {verified.reason}",
        interrupted_decisions=counters["interrupted"],
        left_after_faults=counters["left"],
        lost_races=counters["lost"],
        errors=errors,
    )


@contextmanager
def soak_stack(database_url: str, data_dir: Path) -> Iterator[tuple[Runtime, str]]:
    """A runtime on Postgres over the embedded sandbox, and the HTTP API serving it."""
    from service.api import create_api
    from service.api.server import BackgroundServer
    from service.db.migrate import migrate
    from service.runtime import open_runtime
    from service.settings import load_settings

    settings = load_settings(
        data_dir=data_dir, database_url=database_url, asana_base_url=None, model="offline", api_token=TOKEN
    )
    migrate(settings)
    with open_runtime(settings, registry=SpecialistRegistry([soak_specialist()])) as rt:
        app = create_api(settings, engine=rt.engine, runtime_factory=lambda: nullcontext(rt))
        with BackgroundServer(app) as server:
            yield rt, server.url


@contextmanager
def celery_soak_stack() -> Iterator[tuple[Runtime, str, SandboxServer]]:
    """Real Celery workers (prefork, 2 processes) and beat on a private Redis, sweeping every
    second and resuming Asana approvals from webhook events; the sandbox and the API in this process."""
    from evals.pipeline_stack import PipelineStack
    from service.api import create_api
    from service.api.server import BackgroundServer
    from service.runtime import open_runtime

    env = {"SPRINTPILOT_WORKER_SYNC_APPROVALS_INTERVAL_S": "1"}
    registry = SpecialistRegistry([soak_specialist()])
    with (
        PipelineStack(worker_env=env, concurrency=2) as stack,
        open_runtime(stack.settings, registry=registry) as rt,
    ):
        settings = stack.settings.model_copy(update={"api_token": SecretStr(TOKEN)})
        app = create_api(settings, engine=rt.engine, runtime_factory=lambda: nullcontext(rt))
        with BackgroundServer(app) as server:
            yield rt, server.url, stack.sandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--proposals", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--celery",
        action="store_true",
        help="real Celery workers and beat sweep (else threads in this process)",
    )
    ns = parser.parse_args()
    if ns.celery:
        with celery_soak_stack() as (rt, url, sandbox):
            result = run_soak(
                rt, url, proposals=ns.proposals, seed=ns.seed, progress=print, sandbox=sandbox, sweepers=0
            )
        print(result.table())
        for err in result.errors[:10]:
            print("error:", err)
        raise SystemExit(0 if result.ok else 1)
    import psycopg

    admin = ns.database_url
    name = f"sp_soak_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with (
            tempfile.TemporaryDirectory(prefix="sp-soak-") as tmp,
            soak_stack(f"{admin.rsplit('/', 1)[0]}/{name}", Path(tmp)) as (rt, url),
        ):
            result = run_soak(rt, url, proposals=ns.proposals, seed=ns.seed, progress=print)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(result.table())
    for err in result.errors[:10]:
        print("error:", err)
    raise SystemExit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
