"""Worker tuning, read from `SPRINTPILOT_WORKER_*` (separate from the app's Settings).

The invariant that matters (Celery + Redis): every countdown/ETA the app schedules, i.e. each
retry backoff, must be shorter than the broker's visibility timeout, or Redis redelivers the
still-waiting message to another worker and the task runs again and again. `WorkerConfig`
refuses values that break it.
"""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EVENTS_QUEUE = "sprintpilot.events"
MAINTENANCE_QUEUE = "sprintpilot.maintenance"
QUEUES = (EVENTS_QUEUE, MAINTENANCE_QUEUE)


class WorkerConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SPRINTPILOT_WORKER_", extra="ignore")

    # Deliveries of one message (crashes and retries alike) before it is quarantined.
    max_deliveries: int = Field(default=5, ge=1, le=100)
    visibility_timeout_s: int = Field(default=3600, ge=5)
    # Retries: exponential backoff (base * 2**n) capped at retry_backoff_max_s, full jitter.
    retry_backoff_s: int = Field(default=2, ge=1)
    retry_backoff_max_s: int = Field(default=300, ge=1)
    # How long a run waits for another run on the same thread before retrying later.
    lock_wait_s: float = Field(default=5.0, ge=0)
    relay_interval_s: float = Field(default=2.0, gt=0)
    reconcile_interval_s: float = Field(default=300.0, gt=0)
    sync_approvals_interval_s: float = Field(default=120.0, gt=0)
    standup_hour: int = Field(default=9, ge=0, le=23)  # UTC hour of the daily stand-ups
    retro_hour: int = Field(default=18, ge=0, le=23)  # UTC hour of the end-of-sprint retro sweep
    concurrency: int = Field(default=2, ge=1)
    asana_per_minute: int = Field(default=1500, ge=1)
    asana_max_reads: int = Field(default=50, ge=1)
    asana_max_writes: int = Field(default=15, ge=1)
    shared_asana_limits: bool = True

    @property
    def max_retries(self) -> int:
        """Retries after the first delivery: together they never exceed `max_deliveries`."""
        return self.max_deliveries - 1

    def countdowns(self) -> list[float]:
        """The longest delay (s) of each countdown this app schedules: the retry backoff windows.

        Beat sends its messages for immediate execution (no ETA), and the relay publishes with none.
        """
        return [
            float(min(self.retry_backoff_max_s, self.retry_backoff_s * 2**n)) for n in range(self.max_retries)
        ]

    @model_validator(mode="after")
    def _countdowns_below_visibility(self) -> WorkerConfig:
        longest = max(self.countdowns(), default=0.0)
        if longest >= self.visibility_timeout_s:
            raise ValueError(
                f"visibility_timeout_s ({self.visibility_timeout_s}) must exceed every countdown "
                f"(longest {longest:g} s): Redis would redeliver waiting tasks"
            )
        return self
