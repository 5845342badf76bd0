"""The dependency routes match on structured fields and fall through to another handler."""

from __future__ import annotations

from service.events.router import EventFacts, match_route
from service.events.routes_dependencies import ROUTES, install


def facts(field: str) -> EventFacts:
    return EventFacts.from_payload(
        {"resource": {"gid": "1", "resource_type": "task"}, "action": "changed", "change": {"field": field}}
    )


def test_routes_match_due_date_and_custom_field_changes() -> None:
    table = list(ROUTES)
    assert match_route(facts("due_on"), table).name == "deps_due_changed"  # type: ignore[union-attr]
    assert match_route(facts("custom_fields"), table).name == "deps_status_changed"  # type: ignore[union-attr]
    assert match_route(facts("name"), table) is None


def test_install_is_idempotent_and_orders_before_another_route() -> None:
    from service.events.router import Route, on

    other = Route(
        "qa_status_changed",
        on(resource_type="task", action="changed", field="custom_fields"),
        handler="qa_review",
        agent="qa",
    )
    table = [other]
    handlers: dict = {}
    install(routes=table, handlers=handlers, before="qa_status_changed", fallback="qa_review")
    install(routes=table, handlers=handlers, before="qa_status_changed", fallback="qa_review")
    assert [r.name for r in table] == ["deps_due_changed", "deps_status_changed", "qa_status_changed"]
    assert set(handlers) == {"dependency_due_changed", "dependency_status_changed"}
