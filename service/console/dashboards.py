"""`GET /dashboards` and its pages: sprint burndown, velocity with the forecast fan, capacity,
portfolio health, estimate accuracy and sprintpilot's own write noise.

Each page reads Asana live through the signed-in person's view (`rt.context(viewer=…)`: what
they cannot see in Asana is answered as missing), computes with the agents' code
(service/console/dashboard_data.py) and is cached in-process for 60 s per (page, arguments,
person), so reloading a page does not re-read a workspace. A failure is one line on the page.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from graphs.visibility import Person
from service.console import dashboard_data as data
from service.console.render import ConsoleError, render
from service.console.session import console_runtime, current_person
from tools.asana.errors import NotFound
from tools.errors import SprintpilotError, UserError

if TYPE_CHECKING:
    from graphs.context import RunContext
    from service.runtime import Runtime

log = logging.getLogger("sprintpilot.console")
router = APIRouter(tags=["console"], include_in_schema=False)

CACHE_TTL_S = 60.0
CACHE_MAX = 256

PAGES = (
    ("sprint", "Sprint burndown", "remaining points, the ideal line and scope changes of a sprint"),
    ("velocity", "Velocity and forecast", "completed points per sprint and the forecast fan"),
    ("capacity", "Capacity vs load", "each person's capacity next sprint against their assigned points"),
    ("health", "Portfolio health", "health per sprint project with its components and trend"),
    ("accuracy", "Estimate accuracy", "sprintpilot's estimates against the points finished tasks carry"),
    ("noise", "Noise", "sprintpilot's writes to Asana per day by kind"),
    ("scorecard", "Scorecard", "was sprintpilot right? its estimates, flags, forecasts and nudges per agent"),
)


class TtlCache:
    """A small thread-safe cache of computed dashboards (the API serves requests on threads)."""

    def __init__(self, ttl_s: float = CACHE_TTL_S, max_entries: int = CACHE_MAX) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._items: dict[tuple[str, ...], tuple[float, data.Dashboard]] = {}

    def get_or_make(self, key: tuple[str, ...], make: Callable[[], data.Dashboard]) -> data.Dashboard:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and now - hit[0] < self.ttl_s:
                return hit[1]
        value = make()  # outside the lock: a slow Asana read must not hold up other pages
        with self._lock:
            if len(self._items) >= self.max_entries:
                for stale in [k for k, (t, _) in self._items.items() if now - t >= self.ttl_s]:
                    del self._items[stale]
                if len(self._items) >= self.max_entries:
                    self._items.pop(next(iter(self._items)))
            self._items[key] = (time.monotonic(), value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CACHE = TtlCache()


def _context(rt: Runtime, person: Person) -> RunContext:
    return rt.context(viewer=rt.viewer(person), actor=f"human:{person.label}")


def build(rt: Runtime, person: Person, page: str, ref: str | None) -> data.Dashboard:
    """Compute one dashboard for `person` (no cache); raises what the reads raise."""
    ctx = _context(rt, person)
    now: datetime = ctx.now()
    workspace = ctx.resolve_workspace(None)
    if page == "sprint":
        return data.sprint_dashboard(ctx.asana, workspace, ref, now, rt.settings.timezone)
    if page == "velocity":
        return data.velocity_dashboard(ctx.asana, workspace, ref, now.date())
    if page == "capacity":
        return data.capacity_dashboard(ctx.asana, workspace, ref, now.date())
    if page == "health":
        return data.health_dashboard(ctx.asana, workspace, ref)
    if page == "accuracy":
        return data.accuracy_dashboard(ctx.asana, workspace, ref, now.date())
    if page == "scorecard":
        from service.console.scorecard_data import scorecard_dashboard

        return scorecard_dashboard(ctx, ref)
    if page == "noise":
        viewer = ctx.viewer
        assert viewer is not None
        return data.noise_dashboard(rt.engine, lambda gids: all(viewer.sees(g) for g in gids), now.date())
    raise ConsoleError(404, f"no dashboard named {page!r}")


def _missing(page: str, ref: str | None, err: NotFound) -> str:
    what = "portfolio" if page == "health" else "project"
    message = " ".join(err.message.split())
    if message.startswith(f"no {what} named"):
        return message
    return f"no {what} named {ref!r} that you can see" if ref else message


def dashboard(request: Request, person: Person, page: str, ref: str | None) -> Response:
    ref = (ref or "").strip() or None
    try:
        with console_runtime(request)() as rt:
            board = CACHE.get_or_make((page, ref or "", person.gid), lambda: build(rt, person, page, ref))
    except NotFound as err:
        raise ConsoleError(404, _missing(page, ref, err)) from None
    except (LookupError, ValueError) as err:
        # "no sprint is active", "no portfolio named …", a bad scope: the person's input.
        status = 404 if "no " in str(err) else 400
        raise ConsoleError(status, " ".join(str(err).split())) from None
    except UserError as err:
        raise ConsoleError(400, " ".join(str(err).split())) from None
    except SprintpilotError as err:
        raise ConsoleError(502, f"could not read Asana: {' '.join(str(err).split())}") from None
    except ConsoleError:
        raise
    except Exception as err:  # noqa: BLE001 - one line on the page, the details in the log
        log.exception("dashboard %s failed", page)
        raise ConsoleError(
            500, f"the {page} dashboard could not be computed ({type(err).__name__})"
        ) from None
    title = next(t for key, t, _ in PAGES if key == page)
    return render(
        request,
        "dashboards/chart.html",
        active="dashboards",
        board=board,
        page=page,
        page_title=title,
        ref=ref or "",
    )


@router.get("/dashboards")
def index(request: Request, person: Person = Depends(current_person)) -> Response:
    return render(request, "dashboards/index.html", active="dashboards", pages=PAGES)


@router.get("/dashboards/sprint")
def sprint(
    request: Request,
    person: Person = Depends(current_person),
    project: str | None = Query(default=None, max_length=200),
) -> Response:
    return dashboard(request, person, "sprint", project)


@router.get("/dashboards/velocity")
def velocity(
    request: Request,
    person: Person = Depends(current_person),
    project: str | None = Query(default=None, max_length=200),
) -> Response:
    return dashboard(request, person, "velocity", project)


@router.get("/dashboards/capacity")
def capacity(
    request: Request,
    person: Person = Depends(current_person),
    project: str | None = Query(default=None, max_length=200),
) -> Response:
    return dashboard(request, person, "capacity", project)


@router.get("/dashboards/health")
def health(
    request: Request,
    person: Person = Depends(current_person),
    portfolio: str | None = Query(default=None, max_length=200),
) -> Response:
    return dashboard(request, person, "health", portfolio)


@router.get("/dashboards/accuracy")
def accuracy(
    request: Request,
    person: Person = Depends(current_person),
    project: str | None = Query(default=None, max_length=200),
) -> Response:
    return dashboard(request, person, "accuracy", project)


@router.get("/dashboards/scorecard")
def scorecard(
    request: Request,
    person: Person = Depends(current_person),
    project: str | None = Query(default=None, max_length=200),
) -> Response:
    return dashboard(request, person, "scorecard", project)


@router.get("/dashboards/noise")
def noise(request: Request, person: Person = Depends(current_person)) -> Response:
    return dashboard(request, person, "noise", None)
