"""What one worker process holds open: the app DB engine and, once a task needs it, the Runtime.

Created lazily in the process that runs tasks (a prefork child), never in the parent before the
fork: psycopg connections and pools cannot cross a fork. `forget_after_fork()` drops anything a
child inherited without closing it (closing would end the parent's sessions).
"""

from __future__ import annotations

import logging
import os
from contextlib import ExitStack
from typing import Any

from sqlalchemy import Engine

from service.db.engine import make_engine
from service.db.migrate import migrate
from service.metrics import Metrics, create_metrics
from service.runtime import Runtime, hold_runtime
from service.settings import Settings
from service.worker.config import WorkerConfig

log = logging.getLogger("sprintpilot.worker")


def make_shared_quota(settings: Settings, config: WorkerConfig, token: str) -> Any:
    """The Redis-backed Asana quota for `token`, on the app's Redis."""
    import redis

    from tools.asana.shared_limits import SharedQuota

    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10, socket_connect_timeout=5)
    return SharedQuota(
        client,
        token,
        per_minute=config.asana_per_minute,
        max_reads=config.asana_max_reads,
        max_writes=config.asana_max_writes,
    )


class WorkerState:
    def __init__(self, settings: Settings, config: WorkerConfig) -> None:
        self.settings = settings
        self.config = config
        self.metrics: Metrics = create_metrics()
        self._pid = os.getpid()
        self._engine: Engine | None = None
        self._runtime: Runtime | None = None
        self._stack: ExitStack | None = None

    def _check_pid(self) -> None:
        if self._pid != os.getpid():
            self.forget_after_fork()

    @property
    def engine(self) -> Engine:
        self._check_pid()
        if self._runtime is not None:
            return self._runtime.engine
        if self._engine is None:
            self._engine = make_engine(self.settings)
        return self._engine

    @property
    def runtime(self) -> Runtime:
        self._check_pid()
        if self._runtime is None:
            # Worker start is one of the three places that migrate (under the migration lock).
            migrate(self.settings)
            self._stack, self._runtime = hold_runtime(self.settings, prepare=self._prepare)
        return self._runtime

    def _prepare(self, rt: Runtime) -> None:
        if self.config.shared_asana_limits:
            self._install_quota(rt)
        rt.share_call_totals()

    def _install_quota(self, rt: Runtime) -> None:
        from tools.asana.shared_limits import install_shared_limits

        if self.settings.asana_token is not None:
            token = self.settings.asana_token.get_secret_value()
        elif rt.sandbox is not None:
            token = rt.sandbox.token
        else:  # pragma: no cover - open_runtime refuses a base URL without a token
            return
        install_shared_limits(rt.asana, make_shared_quota(self.settings, self.config, token))

    def forget_after_fork(self) -> None:
        """Drop state inherited from a parent process, without closing its connections."""
        if self._engine is not None:
            self._engine.dispose(close=False)
        if self._runtime is not None:
            self._runtime.engine.dispose(close=False)
        self._engine, self._runtime, self._stack = None, None, None
        self.metrics = create_metrics()
        self._pid = os.getpid()

    def close(self) -> None:
        """Orderly shutdown of this process's connections."""
        if self._pid != os.getpid():
            return
        stack, self._stack, self._runtime = self._stack, None, None
        if stack is not None:
            try:
                stack.close()
            except Exception:  # noqa: BLE001 - shutdown must go on
                log.exception("closing the worker runtime failed")
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
