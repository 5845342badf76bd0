"""Event route that collects feedback given in Asana (structured fields choose the route; the
story's text is only classified, never obeyed).

`feedback_story_added`: a story was added to a task (a comment, or the system story Asana adds
when a custom field changes). The handler reads the task's stories once and records:

- a **reply** to sprintpilot: a comment that is a 👎 or starts with "wrong" (any case), by a
  person (not the service account), after a sprintpilot-tagged comment of the service account on
  the same task within `REPLY_WINDOW` (Asana comments are not threaded, so "reply" means the
  nearest earlier sprintpilot comment). Linked through the action ledger to the proposal action
  that posted that comment; "wrong, it's 8 points" also carries the corrected points.
- an **AI field corrected**: a person (the event's and the story's user, not the service account)
  changed one of the policy's AI fields (Estimated Story Points, Risk Score, …); linked to the
  newest proposal action that set that field on the task, with the old (predicted) and new
  (corrected) values.

One row per story (`story:<gid>`), so a duplicated or redelivered event records nothing new.
Everything else (our own stories, other comments and fields) is skipped without a write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from graphs.policy_config import PolicyConfig
from graphs.ports import AuditRecord
from service.db.feedback import Origin, SqlFeedback, comment_origin, field_origin
from service.events.router import ROUTES as ROUTER_TABLE
from service.events.router import EventFacts, Route, register_route
from service.runtime import Runtime
from service.worker.handlers import HANDLERS, EventWork, HandlerResult
from tools.asana.field_names import ESTIMATED_STORY_POINTS
from tools.asana.models import Story
from tools.feedback.classify import comment_verdict, field_verdict, reply_kind, stated_points
from tools.feedback.models import FeedbackItem, FeedbackKind

ROUTE_NAME = "feedback_story_added"
HANDLER_NAME = "collect_feedback"
AGENT = "feedback"
REPLY_WINDOW = timedelta(days=7)

_me_lock = threading.Lock()
_me: dict[str, str] = {}  # Asana base URL → the service account's gid (asked once per process)


def is_story_on_task(e: EventFacts) -> bool:
    subtype = e.resource_subtype
    return (
        e.resource_type == "story"
        and e.action == "added"
        and e.parent_type == "task"
        and (subtype is None or subtype == "comment_added" or subtype.endswith("custom_field_changed"))
    )


ROUTES: list[Route] = [Route(ROUTE_NAME, is_story_on_task, handler=HANDLER_NAME, agent=AGENT)]


def service_user_gid(rt: Runtime) -> str:
    key = str(rt.asana.base_url)
    with _me_lock:
        if key not in _me:
            _me[key] = rt.asana.me().gid
        return _me[key]


def _when(story: Story) -> datetime:
    at = story.created_at or datetime.now(UTC)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _by(story: Story) -> str | None:
    return story.created_by.gid if story.created_by else None


def _tagged_by_us(story: Story, me: str, tag: str) -> bool:
    return story.is_comment and _by(story) == me and (story.text or "").lstrip().startswith(tag)


def _story_value(story: Story, which: str) -> Any:
    """The old or new value a custom-field story records, as a plain value."""
    for key in (f"{which}_number_value", f"{which}_text_value"):
        value = getattr(story, key)
        if value is not None:
            return value
    enum = getattr(story, f"{which}_enum_value")
    if enum is not None:
        return enum.name
    multi = getattr(story, f"{which}_multi_enum_values")
    if multi:
        return [o.name for o in multi]
    return None


def _reply(
    rt: Runtime, task_gid: str, stories: list[Story], at: int, me: str, tag: str
) -> FeedbackItem | None:
    story = stories[at]
    kind = reply_kind(story.text)
    if kind is None or (story.text or "").lstrip().startswith(tag):
        return None
    earlier = next((s for s in reversed(stories[:at]) if s.is_comment and _by(s) == me), None)
    if earlier is None or not _tagged_by_us(earlier, me, tag) or _when(story) - _when(earlier) > REPLY_WINDOW:
        return None
    origin = comment_origin(rt.engine, task_gid, earlier.gid)
    points = stated_points(story.text) if kind is FeedbackKind.WRONG_COMMENT else None
    predicted: Any = None
    if points is not None:
        estimate = field_origin(rt.engine, task_gid, ESTIMATED_STORY_POINTS)
        predicted = estimate.value if estimate else None
    return _item(
        kind,
        story,
        origin,
        task_gid=task_gid,
        verdict=comment_verdict(origin.agent if origin else None, points),
        field=ESTIMATED_STORY_POINTS if points is not None else None,
        predicted=predicted,
        corrected=points,
        text=story.text,
    )


def _field_change(rt: Runtime, task_gid: str, story: Story, policy: PolicyConfig) -> FeedbackItem | None:
    field = story.custom_field.name if story.custom_field else None
    if not field or not policy.is_auto_field(field):
        return None
    old, new = _story_value(story, "old"), _story_value(story, "new")
    origin = field_origin(rt.engine, task_gid, field)
    return _item(
        FeedbackKind.FIELD_CORRECTED,
        story,
        origin,
        task_gid=task_gid,
        verdict=field_verdict(field, old, new),
        field=field,
        predicted=old,
        corrected=new,
        text=None,
    )


def _item(kind: FeedbackKind, story: Story, origin: Origin | None, **fields: Any) -> FeedbackItem:
    who = _by(story)
    return FeedbackItem(
        kind=kind,
        created_at=_when(story),
        agent=origin.agent if origin else None,
        proposal_id=origin.proposal_id if origin else None,
        action_index=origin.action_index if origin and origin.action_index >= 0 else None,
        action_kind=origin.action_kind if origin else None,
        project_gid=origin.project_gid if origin else None,
        user_gid=who,
        actor=f"asana:{who or 'unknown'}",
        **fields,
    )


def collect_feedback(work: EventWork) -> HandlerResult:
    rt, facts = work.rt, work.facts
    story_gid, task_gid = facts.resource_gid, facts.parent_gid
    if not story_gid or not task_gid:
        return HandlerResult("skipped", "event has no story or task", outcome="ignored")
    me = service_user_gid(rt)
    if facts.user_gid == me:
        return HandlerResult("skipped", "sprintpilot's own story", outcome="ignored")
    stories = rt.asana.stories(task_gid)
    at = next((i for i, s in enumerate(stories) if s.gid == story_gid), None)
    if at is None:
        return HandlerResult("skipped", "story not found on the task", outcome="ignored")
    story = stories[at]
    if _by(story) == me:
        return HandlerResult("skipped", "sprintpilot's own story", outcome="ignored")
    policy = rt.context().policy
    if story.is_comment:
        item = _reply(rt, task_gid, stories, at, me, policy.comment_tag)
    elif story.custom_field is not None:
        item = _field_change(rt, task_gid, story, policy)
    else:
        item = None
    if item is None:
        return HandlerResult("skipped", "not feedback", outcome="ignored")
    allowed = set(rt.settings.allowed_projects)
    if allowed:
        task = rt.asana.task(task_gid)
        if not any(m.project and m.project.gid in allowed for m in task.memberships):
            return HandlerResult("skipped", "task outside the allowed projects", outcome="denied")
    if not SqlFeedback(rt.engine).record(f"story:{story.gid}", item):
        return HandlerResult("skipped", "feedback already recorded", outcome="noop")
    rt.audit.append(
        AuditRecord(
            actor=item.actor,
            event="feedback.recorded",
            outcome="ok",
            proposal_id=item.proposal_id,
            action_index=item.action_index,
            target=task_gid,
            reason=f"{item.kind.value}: {item.verdict.value}",
            details={"story": story.gid, "field": item.field, "agent": item.agent},
        )
    )
    return HandlerResult("done", f"feedback recorded ({item.kind.value})", outcome="recorded")


def install(
    *,
    routes: list[Route] | None = None,
    handlers: dict[str, Callable[[EventWork], HandlerResult]] | None = None,
) -> None:
    """Register the route and handler (idempotent)."""
    table = ROUTER_TABLE if routes is None else routes
    if not any(r.name == ROUTE_NAME for r in table):
        register_route(ROUTES[0], routes=table)
    (HANDLERS if handlers is None else handlers)[HANDLER_NAME] = collect_feedback
