"""The Celery app factory.

`make_celery(settings)` builds a configured app with its tasks and beat schedule; nothing connects
until a worker starts or a task is sent. Reliability settings (reliability-reference §1):
- acks late + reject on worker lost: a task whose worker dies is redelivered, never lost; the
  delivery counter (deliveries.py) turns an endless crash loop into a quarantined message;
- prefetch 1: a worker holds only the task it runs, so a killed worker strands nothing else;
- one visibility timeout in all three places, longer than every retry countdown (WorkerConfig
  enforces it), so Redis never redelivers a message that is merely waiting for its ETA;
- cancel long-running tasks on connection loss: otherwise a task keeps running after the
  broker connection drops *and* is redelivered elsewhere, running twice in parallel;
- our Redis transport (transport.py): a task that finishes after the broker came back acks on a
  closed channel, which kombu turns into an AttributeError that stops the worker consuming.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Celery
from celery.schedules import crontab

from service.settings import Settings, load_settings
from service.worker.config import EVENTS_QUEUE, MAINTENANCE_QUEUE, QUEUES, WorkerConfig
from service.worker.signals import connect_signals, remember_app
from service.worker.state import WorkerState
from service.worker.transport import transport_for


class SprintpilotCelery(Celery):  # type: ignore[misc]  # Celery is untyped (Any) to mypy
    """A Celery app that also carries sprintpilot's settings and its per-process state."""

    def __init__(self, settings: Settings | None, worker_config: WorkerConfig, **kwargs: Any) -> None:
        super().__init__("sprintpilot", **kwargs)
        self._settings = settings
        self.worker_config = worker_config
        self._state: WorkerState | None = None
        self.sprintpilot_tasks: dict[str, Any] = {}

    @property
    def settings(self) -> Settings:
        # Read from the environment on first use when the factory was given none.
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def state(self) -> WorkerState:
        if self._state is None:
            self._state = WorkerState(self.settings, self.worker_config)
        return self._state


def celery_config(settings: Settings, cfg: WorkerConfig) -> dict[str, Any]:
    transport = {
        "visibility_timeout": cfg.visibility_timeout_s,
        "socket_connect_timeout": 5,
        "socket_timeout": 30,
        "retry_on_timeout": True,
        "health_check_interval": 25,
    }
    return {
        "broker_url": settings.redis_url,
        # kombu's Redis transport with acks on a closed connection made harmless (transport.py).
        "broker_transport": transport_for(settings.redis_url),
        "broker_transport_options": dict(transport),
        "result_backend_transport_options": {"visibility_timeout": cfg.visibility_timeout_s},
        "visibility_timeout": cfg.visibility_timeout_s,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 5,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "worker_concurrency": cfg.concurrency,
        "worker_hijack_root_logger": False,
        "task_default_queue": EVENTS_QUEUE,
        "task_create_missing_queues": True,
        "task_routes": {
            "sprintpilot.process_event": {"queue": EVENTS_QUEUE},
            "sprintpilot.*": {"queue": MAINTENANCE_QUEUE},
        },
        "enable_utc": True,
        "timezone": "UTC",
        "beat_schedule": beat_schedule(cfg),
    }


def beat_schedule(cfg: WorkerConfig) -> dict[str, dict[str, Any]]:
    """Periodic work; each message expires after one interval so an outage never piles them up."""

    def every(seconds: float, task: str) -> dict[str, Any]:
        return {
            "task": task,
            "schedule": timedelta(seconds=seconds),
            "options": {"queue": MAINTENANCE_QUEUE, "expires": max(seconds, 1.0)},
        }

    def daily(hour: int, task: str) -> dict[str, Any]:
        return {
            "task": task,
            "schedule": crontab(hour=hour, minute=0),
            "options": {"queue": MAINTENANCE_QUEUE, "expires": 3600},
        }

    return {
        "relay-outbox": every(cfg.relay_interval_s, "sprintpilot.relay_outbox"),
        "reconcile-all": every(cfg.reconcile_interval_s, "sprintpilot.reconcile_all"),
        "sync-approvals": every(cfg.sync_approvals_interval_s, "sprintpilot.sync_approvals"),
        # Daily jobs at fixed UTC times (SPRINTPILOT_WORKER_STANDUP_HOUR / _RETRO_HOUR).
        "daily-standups": daily(cfg.standup_hour, "sprintpilot.standup.daily"),
        "end-of-sprint-retros": daily(cfg.retro_hour, "sprintpilot.retro.end_of_sprint"),
        "end-of-sprint-reviews": daily(cfg.retro_hour, "sprintpilot.sprint_review.end_of_sprint"),
        # Ceremony agendas a few days ahead and the reminder the day before, with the stand-ups.
        "ceremony-prep": daily(cfg.standup_hour, "sprintpilot.ceremonies.daily"),
        # The accuracy scorecard (service/schedules/scorecard.py): daily numbers, a monthly post.
        "daily-scorecard": daily(6, "sprintpilot.scorecard.daily"),
    }


def make_celery(
    settings: Settings | None = None, worker_config: WorkerConfig | None = None
) -> SprintpilotCelery:
    """A configured app with every sprintpilot task registered. Connects to nothing.

    With `settings=None` the settings are read from the environment when the configuration is
    first needed (a worker starting, a task being sent), not here.
    """
    from service.worker.tasks import register_tasks

    cfg = worker_config or WorkerConfig()
    app = SprintpilotCelery(settings, cfg)
    # Lazily evaluated by Celery on first access to app.conf.
    app.add_defaults(lambda: celery_config(app.settings, cfg))
    app.sprintpilot_tasks = register_tasks(app)
    remember_app(app)
    connect_signals()
    return app


def queues() -> tuple[str, ...]:
    return QUEUES
