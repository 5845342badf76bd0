"""`GET /settings`: the effective configuration that decides what agents may do, read-only.

Shown so a reviewer can see why an action waits for them: each action kind's approval class
(with per-workspace overrides), where agents may act, who approves, the model engine and the
periodic jobs. No secrets: tokens and keys are only said to be set or not.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from graphs.visibility import Person
from service.console.render import render
from service.console.session import console_runtime, current_person
from tools.errors import SprintpilotError

router = APIRouter(tags=["console"], include_in_schema=False)


@dataclass(frozen=True)
class PolicyRow:
    kind: str
    default: str
    overrides: str  # "workspace: class, …" where a workspace overrides the default


def _schedules() -> list[tuple[str, str]]:
    from service.worker.config import WorkerConfig  # the worker's own settings (env), no I/O

    cfg = WorkerConfig()
    return [
        ("Daily stand-ups", f"{cfg.standup_hour:02d}:00 UTC"),
        ("End-of-sprint retros", f"{cfg.retro_hour:02d}:00 UTC"),
        ("Approval sync from Asana", f"every {cfg.sync_approvals_interval_s:g} s"),
        ("Event reconciliation", f"every {cfg.reconcile_interval_s:g} s"),
    ]


@router.get("/settings")
def settings_page(request: Request, person: Person = Depends(current_person)) -> Response:
    with console_runtime(request)() as rt:
        settings = rt.settings
        policy = settings.approval_policy
        names: dict[str, str] = {}
        with suppress(SprintpilotError):  # without names, the gids alone are still correct
            names = {w.gid: w.name or w.gid for w in rt.asana.workspaces()}
        workspaces = [(gid, names.get(gid) or gid) for gid in rt.allowed_workspaces()]
        rows = []
        for kind, cls in sorted(policy.kinds.items(), key=lambda kv: kv[0].value):
            overrides = [
                f"{names.get(ws) or ws}: {c[kind].value}" for ws, c in policy.workspaces.items() if kind in c
            ]
            rows.append(PolicyRow(kind.value, cls.value, ", ".join(overrides)))
        return render(
            request,
            "settings.html",
            active="settings",
            policy=rows,
            workspaces=workspaces,
            projects=list(settings.allowed_projects),
            approvers=list(settings.approvers or ([settings.approver] if settings.approver else [])),
            engine=rt.engine_label,
            due_hours=settings.approval_due_hours,
            daily_budget=policy.daily_write_budget,
            schedules=_schedules(),
        )
