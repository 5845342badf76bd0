"""Celery process signals: fresh connections in every forked child, orderly close on shutdown.

psycopg connections and pools cannot cross a fork (psycopg/psycopg#651): in `worker_process_init`
each child drops the checkpoint pools and SQLAlchemy connections it inherited, and creates its
own on first use. Handlers are connected once per process, when the first app is built.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from celery.signals import worker_process_init, worker_process_shutdown, worker_shutdown

from service.checkpoint import close_pools, reset_pool_after_fork

if TYPE_CHECKING:
    from service.worker.app import SprintpilotCelery

_apps: weakref.WeakSet[SprintpilotCelery] = weakref.WeakSet()
_connected = False


def remember_app(app: SprintpilotCelery) -> None:
    _apps.add(app)


def after_fork(**_: Any) -> None:
    reset_pool_after_fork()
    for app in list(_apps):
        if app._state is not None:
            app._state.forget_after_fork()


def on_shutdown(**_: Any) -> None:
    for app in list(_apps):
        if app._state is not None:
            app._state.close()
    close_pools()


def connect_signals() -> None:
    global _connected
    if _connected:
        return
    worker_process_init.connect(after_fork, weak=False, dispatch_uid="sprintpilot.after_fork")
    worker_process_shutdown.connect(on_shutdown, weak=False, dispatch_uid="sprintpilot.process_shutdown")
    # Solo/threads pools run tasks in the main process: close there too.
    worker_shutdown.connect(on_shutdown, weak=False, dispatch_uid="sprintpilot.worker_shutdown")
    _connected = True
