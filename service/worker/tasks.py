"""The Celery tasks: process_event, relay_outbox, reconcile, reconcile_all, sync_approvals.

Registered on an app by `register_tasks(app)` (called by `make_celery`), so there is no module-level
app. Retries: `autoretry_for` lists transient errors only (Asana 429/5xx/no answer/open breaker,
database connection trouble, a busy thread lock); backoff is exponential with full jitter and the
retry count keeps the total deliveries within the quarantine budget. 4xx and validation errors
fail at once. Every delivery of `process_event` is counted first (see deliveries.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psycopg
from celery import Task
from sqlalchemy.exc import OperationalError as SqlOperationalError

from service.db.events import InboxStatus, OutboxMessage
from service.events.locks import ThreadLocked
from service.events.reconcile import reconcile_project, watched_projects
from service.events.relay import relay_all
from service.worker.config import EVENTS_QUEUE, MAINTENANCE_QUEUE
from service.worker.deliveries import begin_delivery, end_delivery, quarantine
from service.worker.processing import mark_inbox, process_inbox_event
from tools.asana.errors import CircuitOpen, RateLimited, ServerError, TransportError

if TYPE_CHECKING:
    from service.worker.app import SprintpilotCelery

log = logging.getLogger("sprintpilot.worker")

# Errors worth another try later; anything else (4xx, validation, bugs) fails at once.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    RateLimited,
    ServerError,
    CircuitOpen,
    TransportError,
    SqlOperationalError,
    psycopg.OperationalError,
    ThreadLocked,
)

PROCESS_EVENT = "sprintpilot.process_event"
RELAY_OUTBOX = "sprintpilot.relay_outbox"
RECONCILE = "sprintpilot.reconcile"
RECONCILE_ALL = "sprintpilot.reconcile_all"
SYNC_APPROVALS = "sprintpilot.sync_approvals"
DAILY_STANDUPS = "sprintpilot.standup.daily"
END_OF_SPRINT_RETROS = "sprintpilot.retro.end_of_sprint"
END_OF_SPRINT_REVIEWS = "sprintpilot.sprint_review.end_of_sprint"
CEREMONY_PREP = "sprintpilot.ceremonies.daily"
DAILY_SCORECARD = "sprintpilot.scorecard.daily"

# Publishing must fail fast while the broker is down: the row simply stays in the outbox.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


def _error_text(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"[:2000]


def _started_for(rt: Any, agent: str) -> set[str]:
    """Projects an `agent` run was started for (its recent runs): a sprint's end-of-sprint job
    starts once, however often the beat fires."""
    runs = rt.repo.list_runs(limit=500)
    return {str((r.request.get("args") or {}).get("project")) for r in runs if r.agent == agent}


def register_tasks(app: SprintpilotCelery) -> dict[str, Task]:
    cfg = app.worker_config

    def task(**options: Any) -> Callable[[Callable[..., Any]], Task]:
        # `app.task` with a declared type: celery ships no type hints, so mypy sees Any.
        decorator: Callable[[Callable[..., Any]], Task] = app.task(**options)
        return decorator

    retry_options: dict[str, Any] = {
        "autoretry_for": TRANSIENT_ERRORS,
        "retry_backoff": cfg.retry_backoff_s,
        "retry_backoff_max": cfg.retry_backoff_max_s,
        "retry_jitter": True,
        "max_retries": cfg.max_retries,
    }

    @task(bind=True, shared=False, name=PROCESS_EVENT, **retry_options)
    def process_event(self: Task, inbox_id: int) -> dict[str, Any]:
        state = app.state
        engine = state.engine
        key = f"process_event:{inbox_id}"
        delivery = begin_delivery(engine, key, PROCESS_EVENT, task_id=self.request.id, inbox_id=inbox_id)
        if delivery.attempts > cfg.max_deliveries:
            reason = f"delivered {delivery.attempts} times without finishing (limit {cfg.max_deliveries})"
            log.error("quarantining inbox event %s: %s", inbox_id, reason)
            quarantine(engine, delivery, inbox_id=inbox_id, reason=reason, metrics=state.metrics)
            return {"inbox_id": inbox_id, "status": "quarantined"}
        try:
            result = process_inbox_event(
                state.runtime, inbox_id, lock_wait_s=cfg.lock_wait_s, metrics=state.metrics
            )
        except TRANSIENT_ERRORS as err:
            end_delivery(engine, key, error=_error_text(err))
            if self.request.retries >= cfg.max_retries:
                mark_inbox(engine, inbox_id, InboxStatus.FAILED, _error_text(err))
            raise
        except Exception as err:
            end_delivery(engine, key, error=_error_text(err))
            mark_inbox(engine, inbox_id, InboxStatus.FAILED, _error_text(err))
            state.metrics.runs.labels(agent="unknown", outcome="error").inc()
            raise
        end_delivery(engine, key)
        return result

    def publish(row: OutboxMessage) -> None:
        process_event.apply_async(
            args=[row.inbox_id], queue=EVENTS_QUEUE, retry=True, retry_policy=PUBLISH_RETRY_POLICY
        )

    @task(shared=False, name=RELAY_OUTBOX)
    def relay_outbox() -> dict[str, Any]:
        return relay_all(app.state.engine, publish).as_dict()

    @task(bind=True, shared=False, name=RECONCILE, **retry_options)
    def reconcile(self: Task, project_gid: str) -> dict[str, Any]:
        rt = app.state.runtime
        result = reconcile_project(rt.engine, rt.asana, project_gid)
        if result.resynced:
            # Events were lost with the expired token: re-read the state we act on.
            sync_approvals.apply_async(queue=MAINTENANCE_QUEUE)
        if result.stored:
            relay_outbox.apply_async(queue=MAINTENANCE_QUEUE)
        return result.as_dict()

    @task(shared=False, name=RECONCILE_ALL)
    def reconcile_all() -> list[str]:
        projects = watched_projects(app.state.engine, list(app.settings.allowed_projects))
        for gid in projects:
            reconcile.apply_async(args=[gid], queue=MAINTENANCE_QUEUE)
        return projects

    @task(bind=True, shared=False, name=SYNC_APPROVALS, **retry_options)
    def sync_approvals(self: Task) -> list[dict[str, Any]]:
        from service.approvals import close_stale, pending, resume_interrupted
        from service.worker.handlers import apply_asana_decision

        rt = app.state.runtime
        results = []
        # First finish approved or automatic work that stopped on a fault (never left stuck).
        for proposal_id, resumed in resume_interrupted(rt):
            results.append({"proposal_id": proposal_id, "status": "resumed", "detail": resumed.status})
        # Then close what nobody will decide any more (expired, superseded).
        for gone in close_stale(rt):
            results.append({"proposal_id": gone.proposal_id, "status": gone.status, "detail": gone.reason})
        for item in pending(rt):
            try:
                outcome = apply_asana_decision(rt, item.proposal, lock_wait_s=0)
            except ThreadLocked:
                continue  # a run holds the thread right now; the next sweep looks again
            results.append(
                {"proposal_id": item.proposal.id, "status": outcome.status, "detail": outcome.detail}
            )
        return results

    @task(shared=False, name=DAILY_STANDUPS)
    def daily_standups() -> list[dict[str, Any]]:
        """Every active sprint's stand-up for today (one per project per day, however often run)."""
        from service.schedules.standup import active_sprint_projects
        from service.schedules.standup import daily_standups as run_all

        rt = app.state.runtime
        tz = rt.settings.timezone
        return [
            {"project": r.project_gid, "day": r.day, "status": r.status}
            for r in run_all(rt, active_sprint_projects(rt), timezone=tz)
        ]

    @task(shared=False, name=END_OF_SPRINT_RETROS)
    def end_of_sprint_retros() -> list[str]:
        """Start a retro for each sprint that ended in the last week and has none yet."""
        from agents.retro import RETRO_NAME
        from service.schedules.retro import run_end_of_sprint_retros

        rt = app.state.runtime
        started_for = _started_for(rt, RETRO_NAME)
        return run_end_of_sprint_retros(rt, already_started=lambda gid: gid in started_for)

    @task(shared=False, name=END_OF_SPRINT_REVIEWS)
    def end_of_sprint_reviews() -> list[str]:
        """Start a sprint review for each sprint that ended in the last week and has none attached."""
        from agents.retro import SPRINT_REVIEW_NAME
        from service.schedules.sprint_review import run_end_of_sprint_reviews

        rt = app.state.runtime
        started_for = _started_for(rt, SPRINT_REVIEW_NAME)
        return run_end_of_sprint_reviews(rt, already_started=lambda gid: gid in started_for)

    @task(shared=False, name=CEREMONY_PREP)
    def ceremony_prep() -> list[str]:
        """Prepare (or remind of) the ceremonies of sprints that end within a few days."""
        from service.events.wiring import backlog_names
        from service.schedules.ceremonies import run_ceremony_prep

        return run_ceremony_prep(app.state.runtime, sorted(backlog_names()))

    @task(shared=False, name=DAILY_SCORECARD)
    def daily_scorecard() -> dict[str, Any] | None:
        """Score the configured portfolio (SPRINTPILOT_SCORECARD_PORTFOLIO); post it once a month."""
        from dataclasses import asdict

        from service.schedules.scorecard import run_scorecard_job

        done = run_scorecard_job(app.state.runtime)
        return asdict(done) if done is not None else None

    return {
        "process_event": process_event,
        "relay_outbox": relay_outbox,
        "reconcile": reconcile,
        "reconcile_all": reconcile_all,
        "sync_approvals": sync_approvals,
        "daily_standups": daily_standups,
        "end_of_sprint_retros": end_of_sprint_retros,
        "end_of_sprint_reviews": end_of_sprint_reviews,
        "ceremony_prep": ceremony_prep,
        "daily_scorecard": daily_scorecard,
    }
