"""`sprintpilot worker` and `sprintpilot beat`: the Celery side of the event pipeline.

Mount in the main app with `app.command("worker")(worker)` and `app.command("beat")(beat)`.
Both read `SPRINTPILOT_*` settings (database, Redis) and `SPRINTPILOT_WORKER_*` tuning.
"""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.errors import friendly
from service.worker.config import QUEUES


def worker_argv(
    *, concurrency: int, queues: str, pool: str, loglevel: str, hostname: str | None
) -> list[str]:
    """The Celery worker command line (kept separate so it can be checked without starting one)."""
    argv = [
        "worker",
        f"--concurrency={concurrency}",
        f"--queues={queues}",
        f"--pool={pool}",
        f"--loglevel={loglevel}",
        "--without-gossip",
        "--without-mingle",
    ]
    if hostname:
        argv.append(f"--hostname={hostname}")
    return argv


@friendly
def worker(
    concurrency: Annotated[int, typer.Option(help="Worker processes (prefork children).")] = 2,
    queues: Annotated[str, typer.Option(help="Comma-separated queues to consume.")] = ",".join(QUEUES),
    pool: Annotated[str, typer.Option(help="Celery pool: prefork or solo.")] = "prefork",
    loglevel: Annotated[str, typer.Option(help="Log level.")] = "INFO",
    hostname: Annotated[str | None, typer.Option(help="Node name (default: celery@<host>).")] = None,
) -> None:
    """Run a Celery worker: processes Asana events, relays the outbox, reconciles, syncs approvals."""
    from service.settings import load_settings
    from service.worker.app import make_celery

    app = make_celery(load_settings())
    app.worker_main(
        worker_argv(concurrency=concurrency, queues=queues, pool=pool, loglevel=loglevel, hostname=hostname)
    )


@friendly
def beat(
    loglevel: Annotated[str, typer.Option(help="Log level.")] = "INFO",
    schedule_file: Annotated[
        str | None, typer.Option(help="Where beat keeps its last-run times (default: under data_dir).")
    ] = None,
) -> None:
    """Run the scheduler (exactly one per deployment): relay every 2 s, reconcile, approval sync."""
    from service.settings import load_settings
    from service.worker.app import make_celery

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = make_celery(settings)
    path = schedule_file or str(settings.data_dir / "celerybeat-schedule")
    app.start(["beat", f"--loglevel={loglevel}", f"--schedule={path}"])
