"""The declarative table from Asana events to work.

Each `Route` matches on an event's structured fields only (resource type/subtype, action, changed
field, parent type): text from Asana (names, notes, comments) never selects what runs. The first
matching route wins; an event no route matches is skipped. A route names its handler (registered
in `service.worker.handlers`) and the agent it drives.

Only work whose agent exists is in the table. Today that is the approval resume; later agents add
themselves with `register_route(...)` (e.g. triage for tasks added to the backlog project, qa for
moves to "Ready for Review", dependencies for due-date/dependency changes, comment replies).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EventFacts:
    """The structured fields of one compact Asana event (all the router may look at)."""

    resource_gid: str | None
    resource_type: str | None
    resource_subtype: str | None
    action: str | None
    change_field: str | None
    change_action: str | None
    parent_gid: str | None
    parent_type: str | None
    user_gid: str | None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> EventFacts:
        def ref(name: str) -> Mapping[str, Any]:
            value = payload.get(name)
            return value if isinstance(value, Mapping) else {}

        def text(value: Any) -> str | None:
            return None if value is None else str(value)

        resource, parent, change, user = ref("resource"), ref("parent"), ref("change"), ref("user")
        return cls(
            resource_gid=text(resource.get("gid")),
            resource_type=text(resource.get("resource_type")),
            resource_subtype=text(resource.get("resource_subtype")),
            action=text(payload.get("action")),
            change_field=text(change.get("field")),
            change_action=text(change.get("action")),
            parent_gid=text(parent.get("gid")),
            parent_type=text(parent.get("resource_type")),
            user_gid=text(user.get("gid")),
        )


Predicate = Callable[[EventFacts], bool]


@dataclass(frozen=True)
class Route:
    name: str
    match: Predicate
    handler: str
    agent: str


# ---- predicate builders (small, composable, structured-field only) ----------------------------
def on(
    *,
    resource_type: str | None = None,
    action: str | None = None,
    field: str | Iterable[str] | None = None,
    parent_type: str | None = None,
) -> Predicate:
    """A predicate requiring each given structured field to equal (or, for `field`, be one of) a value."""
    fields = None if field is None else ({field} if isinstance(field, str) else set(field))

    def match(e: EventFacts) -> bool:
        return (
            (resource_type is None or e.resource_type == resource_type)
            and (action is None or e.action == action)
            and (fields is None or e.change_field in fields)
            and (parent_type is None or e.parent_type == parent_type)
        )

    return match


APPROVAL_STATUS_CHANGED = on(resource_type="task", action="changed", field="approval_status")

# Order matters: the first match wins.
ROUTES: list[Route] = [
    # An approval task's status moved (approved / rejected / changes requested) in Asana: resume
    # the thread waiting at its gate. Whether the task is one of ours is checked by the handler
    # against the repository (structured lookup by gid), never by the task's text.
    Route("approval_decision", APPROVAL_STATUS_CHANGED, handler="resume_approval", agent="approval"),
]


def register_route(route: Route, *, before: str | None = None, routes: list[Route] | None = None) -> None:
    """Add a route (at the end, or before the route named `before`); names are unique."""
    table = ROUTES if routes is None else routes
    if any(r.name == route.name for r in table):
        raise ValueError(f"route {route.name!r} is already registered")
    if before is None:
        table.append(route)
        return
    index = next((i for i, r in enumerate(table) if r.name == before), None)
    if index is None:
        raise ValueError(f"no route named {before!r}")
    table.insert(index, route)


def match_route(facts: EventFacts, routes: Iterable[Route] | None = None) -> Route | None:
    """The first route whose predicate accepts the event, or None (the event is skipped)."""
    for route in ROUTES if routes is None else routes:
        if route.match(facts):
            return route
    return None
