"""Ceremony preparation as a registered specialist: an agenda task with its .ics invite, and a
reminder the day before.

Per ceremony (planning, sprint review, retro) and sprint, in the team's ceremonies project:
- nothing prepared yet → `create_project` (the ceremonies project, first time only),
  `create_task` (due at the ceremony's start, the agenda as notes, a key line), `attach_document`
  (the .ics) — creating needs approval; the document's class is configurable;
- prepared, but the agenda or time changed → `update_task` (notes/due time, with the values read
  as `before`) and the new .ics (the old one replaced);
- prepared and unchanged → nothing, except on the working day before the ceremony (local time),
  once: an `[AI Proposal]` reminder comment (auto), when `remind` is on;
- the ceremony is over → nothing;
- its task was created by us and then deleted or closed by a person → nothing for that time, and
  the run says so (agents/ceremonies/deleted.py).

The invite invites the team (agents/ceremonies/invite.py) and carries a SEQUENCE that grows with
each changed version, so a calendar sees a moved ceremony as an update of the same event.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agents.ceremonies.deleted import removed_note
from agents.ceremonies.inputs import CeremonyInputs, read_ceremony_inputs
from agents.ceremonies.invite import invite_name, next_sequence
from agents.proposal import Action, ActionKind, Proposal, Scope
from graphs.registry import ChatOption, Specialist, Target
from tools.ceremonies.agenda import Agenda, planning_agenda, retro_agenda, review_agenda
from tools.ceremonies.ics import CalendarEvent, calendar, content_digest
from tools.ceremonies.times import (
    Ceremony,
    CeremonyTimes,
    Window,
    ceremony_window,
    env_reminders,
    env_times,
    env_timezone,
    reminder_day,
)
from tools.retro.review_doc import build_review, safe_filename

if TYPE_CHECKING:
    from graphs.context import RunContext

CEREMONY_NAME = "ceremony"
_AGENDA_LINE = re.compile(r"sprintpilot agenda ([0-9a-f]{10})")


class CeremonyArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ceremony: Ceremony = Field(description="planning, review or retro")
    project: str = Field(default="Product Backlog", description="the team's backlog project (gid or name)")
    workspace: str | None = None
    # Defaults: the same settings the CLI passes (SPRINTPILOT_TIMEZONE, _CEREMONY_TIMES, _REMINDERS).
    timezone: str = Field(default_factory=env_timezone, description="IANA zone the ceremony times are in")
    times: CeremonyTimes = Field(default_factory=env_times, description="per-ceremony time overrides")
    remind: bool = Field(
        default_factory=env_reminders, description="comment a reminder on the working day before"
    )
    top: int = Field(default=10, ge=1, le=50, description="backlog items on the planning agenda")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:  # not found is a KeyError
            raise ValueError(f"unknown timezone {value!r}") from err
        return value


def build_agenda(inputs: CeremonyInputs, window: Window, timezone: str) -> Agenda:
    s = inputs.sprint
    if inputs.ceremony == "planning":
        return planning_agenda(
            s.name, window.start, window.end, timezone, inputs.forecast, inputs.backlog_lines, inputs.actions
        )
    review = build_review(s.name, s.start_on, s.end_on, inputs.review_tasks)
    if inputs.ceremony == "review":
        return review_agenda(s.name, window.start, window.end, timezone, review)
    return retro_agenda(s.name, window.start, window.end, timezone, review, inputs.actions)


def invite(inputs: CeremonyInputs, agenda: Agenda, window: Window, now: datetime) -> tuple[str, str, bool]:
    """(file name, .ics text, whether the task already has this file): the UID is stable per team,
    ceremony and sprint; the name carries the digest of what the event says and its SEQUENCE, so
    an unchanged ceremony keeps its file and a changed one is the next version."""
    uid_seed = f"{inputs.backlog.gid}:{inputs.ceremony}:{inputs.sprint.name}"
    uid = f"{inputs.ceremony}-{hashlib.sha256(uid_seed.encode()).hexdigest()[:20]}@sprintpilot"
    event = CalendarEvent(
        uid=uid,
        start=window.start,
        end=window.end,
        summary=agenda.title,
        description=agenda.text,
        stamp=now,
        organizer=inputs.organizer,
        attendees=inputs.attendees,
    )
    digest = content_digest(event)
    attached = inputs.existing_attachments if inputs.existing is not None else []
    sequence, present = next_sequence(agenda.title, attached, digest)
    text = calendar(event.model_copy(update={"sequence": sequence}))
    return invite_name(agenda.title, digest, sequence), text, present


def create_facts(inputs: CeremonyInputs, window: Window) -> dict[str, Any]:
    """What the ceremony task's create states: this ceremony at this time (not its agenda, which
    changes while the task lives), so a later run can tell the task was created before."""
    return {
        "ceremony": inputs.ceremony,
        "sprint": inputs.sprint.name,
        "team": inputs.backlog.gid,
        "task": "agenda",
        "start": window.start.isoformat(),
    }


def _notes(agenda: Agenda, key: str) -> str:
    return f"{agenda.text}\n\nsprintpilot agenda {agenda.digest()} {key}"


def build_actions(
    inputs: CeremonyInputs, agenda: Agenda, window: Window, now: datetime, args: CeremonyArgs
) -> tuple[list[Action], str]:
    if now >= window.start:
        return [], f"the {agenda.title} started at {window.start:%Y-%m-%d %H:%M} UTC; nothing to prepare"
    ics_name, ics, attached = invite(inputs, agenda, window, now)
    attach = {
        "filename": ics_name,
        "content": ics,
        "content_type": "text/calendar",
        "parent_type": "task",
        "replaces_prefix": safe_filename(agenda.title),
    }
    facts = {"ceremony": inputs.ceremony, "sprint": inputs.sprint.name, "team": inputs.backlog.gid}
    existing = inputs.existing
    if existing is None:
        actions: list[Action] = []
        project = inputs.calendar_project.gid if inputs.calendar_project is not None else "ref:ceremonies"
        if inputs.calendar_project is None:
            actions.append(
                Action(
                    kind=ActionKind.CREATE_PROJECT,
                    ref="ceremonies",
                    params={
                        "name": inputs.calendar_name,
                        "workspace_gid": inputs.workspace_gid,
                        "team_gid": inputs.team_gid,
                        "notes": "Ceremony agendas and calendar invites prepared by sprintpilot.",
                        "unique_name": True,
                    },
                    reason="the team's ceremonies project (first use)",
                )
            )
        actions += [
            Action(
                kind=ActionKind.CREATE_TASK,
                ref="ceremony_task",
                params={
                    "name": agenda.title,
                    "projects": [project],
                    "notes": _notes(agenda, inputs.key),
                    "due_at": window.start.isoformat(),
                    "unique_key": inputs.key,
                },
                facts=create_facts(inputs, window),
                reason=f"the {agenda.title} agenda, due at its start",
            ),
            Action(
                kind=ActionKind.ATTACH_DOCUMENT,
                target="ref:ceremony_task",
                params=attach,
                facts={**facts, "ics": ics_name},
                reason="the calendar invite (.ics)",
            ),
        ]
        return actions, "prepared"
    actions = []
    changed: dict[str, Any] = {}
    m = _AGENDA_LINE.search(existing.notes or "")
    if m is None or m.group(1) != agenda.digest():
        changed["notes"] = _notes(agenda, inputs.key)
    if existing.due_at is None or existing.due_at.astimezone(UTC) != window.start:
        changed["due_at"] = window.start.isoformat()
    if changed:
        before: dict[str, Any] = {"notes": existing.notes or ""} if "notes" in changed else {}
        if "due_at" in changed:
            before["due_at"] = existing.due_at.isoformat() if existing.due_at else None
        actions.append(
            Action(
                kind=ActionKind.UPDATE_TASK,
                target=existing.gid,
                params=changed,
                before=before,
                reason="the agenda or the time changed since it was prepared",
            )
        )
    if not attached:
        actions.append(
            Action(
                kind=ActionKind.ATTACH_DOCUMENT,
                target=existing.gid,
                params=attach,
                facts={**facts, "ics": ics_name},
                reason="the updated calendar invite (.ics)",
            )
        )
    state = "updated" if actions else "already prepared; nothing changed"
    local_today = now.astimezone(ZoneInfo(args.timezone)).date()
    if args.remind and not inputs.reminder_sent and local_today == reminder_day(window.local_day):
        # Independent of an update waiting for approval: the reminder is due today or never.
        when = window.start.astimezone(ZoneInfo(args.timezone))
        text = (
            f"Reminder: {agenda.title} is on {when:%A %Y-%m-%d at %H:%M} ({args.timezone}). "
            f"The agenda is in this task's description.\n\n{inputs.reminder_key}"
        )
        actions.append(
            Action(
                kind=ActionKind.POST_COMMENT,
                target=existing.gid,
                params={"text": text},
                facts={**facts, "reminder": window.start.isoformat()},
                reason="reminder the working day before",
            )
        )
        state = f"{state}; reminder" if actions[:-1] else "reminder"
    return actions, state


def run_ceremony(raw_args: dict[str, Any], ctx: RunContext) -> Proposal:
    args = CeremonyArgs.model_validate(raw_args)
    workspace = ctx.resolve_workspace(args.workspace)
    now = ctx.now()
    inputs = read_ceremony_inputs(
        ctx.asana, workspace, args.project, args.ceremony, today=now.date(), top=args.top
    )
    s = inputs.sprint
    window = ceremony_window(args.ceremony, s.start_on, s.end_on, args.times, args.timezone)
    agenda = build_agenda(inputs, window, args.timezone)
    actions, state = build_actions(inputs, agenda, window, now, args)
    create = next((a for a in actions if a.ref == "ceremony_task"), None)
    if create is not None:
        when = f"{window.start:%Y-%m-%d %H:%M} UTC"
        note = removed_note(ctx.journal, ctx.asana, create, agenda.title, when)
        if note is not None:
            actions, state = [], note
    projects = [inputs.backlog.gid] + ([inputs.calendar_project.gid] if inputs.calendar_project else [])
    return Proposal(
        agent=CEREMONY_NAME,
        scope=Scope(workspace_gid=workspace, project_gids=projects),
        title=f"Approve the {agenda.title} agenda and invite",
        subject=f"ceremony:{inputs.backlog.gid}:{args.ceremony}:{s.name}",
        summary_markdown=f"**{agenda.title}** ({state})\n\n{agenda.text}",
        evidence={
            "ceremony": args.ceremony,
            "sprint": s.model_dump(mode="json"),
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "timezone": args.timezone,
            "state": state,
            "calendar_project": inputs.calendar_name,
            "existing_task": inputs.existing.gid if inputs.existing else None,
            "agenda_digest": agenda.digest(),
            "forecast": inputs.forecast.model_dump(mode="json"),
            "backlog_items": len(inputs.backlog_lines),
            "open_action_items": len(inputs.actions),
            "invite": {
                "organizer": inputs.organizer.email if inputs.organizer else None,
                "attendees": len(inputs.attendees),
            },
        },
        actions=actions,
        model="offline",
    )


def ceremony_specialist() -> Specialist:
    return Specialist(
        name=CEREMONY_NAME,
        description="Ceremony preparation: agenda task with a calendar invite for planning, review or retro.",
        run=run_ceremony,
        args_model=CeremonyArgs,
        verbs=("ceremony",),
        expects=Target("project", "project", optional=True, help="ceremony agenda and invite"),
        options=(ChatOption("for", "ceremony", "text"),),
        project_kind="backlog",
    )
