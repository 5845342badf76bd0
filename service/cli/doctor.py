"""`sprintpilot doctor`: check the setup against the configured Asana (real or sandbox); writes nothing.

Exit 0 when the agents can work (warnings allowed), 1 when a check FAILs, 2 when the token is
refused or the settings are unusable (one line, as every configuration error).
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from service.cli.errors import friendly
from service.cli.render import console
from service.cli.run_agent import load_settings
from service.doctor import (
    Check,
    approvers_check,
    broker_check,
    clock_check,
    database_check,
    field_checks,
    plan_check,
    scopes_check,
    webhook_check,
    whoami,
    workspace_check,
)

_STYLE = {"ok": "green", "warn": "yellow", "FAIL": "bold red"}


def run_checks(
    data_dir: Path | None, webhook_url: str | None, projects: list[str]
) -> tuple[list[Check], str]:
    """Every check, in order, and the Asana URL they ran against."""
    from service.db.engine import make_engine
    from service.runtime import _asana_target
    from tools.asana import AsanaClient, RetryPolicy
    from tools.errors import ConfigError
    from tools.paths import writable_dir_problem

    settings = load_settings(data_dir)
    # As every command refuses it (service/runtime.open_runtime): the embedded sandbox saves its
    # state on exit, which died with a traceback on a read-only data directory.
    problem = writable_dir_problem(settings.data_dir)
    if problem is not None:
        raise ConfigError(f"data directory {problem} (--data-dir or SPRINTPILOT_DATA_DIR)")
    with ExitStack() as stack:
        engine = make_engine(settings)  # OAuth: the service token is stored in the database
        stack.callback(engine.dispose)
        base_url, source, _sandbox = _asana_target(settings, stack, engine=engine)
        token = source() if callable(source) else source
        me = whoami(base_url, token)
        asana = stack.enter_context(
            AsanaClient(base_url, token, retry=RetryPolicy(max_attempts=2), breaker=False)
        )
        checks = [Check("asana token", "ok", f"{me.user} via {base_url}")]
        ws_check, workspaces = workspace_check(asana, list(settings.allowed_workspaces))
        checks += [ws_check, scopes_check(settings)]
        fields, _free = field_checks(asana, workspaces, projects or list(settings.allowed_projects))
        checks += fields
        checks += [approvers_check(asana, settings, workspaces), plan_check(asana, workspaces)]
        checks += [webhook_check(webhook_url), clock_check(me.skew_s)]
    checks += [database_check(settings), broker_check(settings)]
    return checks, base_url


@friendly
def doctor(
    webhook_url: Annotated[
        str | None, typer.Option("--webhook-url", help="Public https URL Asana delivers webhooks to.")
    ] = None,
    project: Annotated[
        list[str] | None,
        typer.Option("--project", help="Project gid to check (repeatable; default: allowed projects)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the embedded DB and sandbox state live.")
    ] = None,
) -> None:
    """Check the token, workspaces, custom fields, plan, webhooks, clock, database and broker."""
    checks, base_url = run_checks(data_dir, webhook_url, project or [])
    fixes = [c.fix for c in checks if c.status != "ok" and c.fix]
    failed = any(c.status == "FAIL" for c in checks)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": not failed,
                    "asana": base_url,
                    "checks": [c.as_json() for c in checks],
                    "fixes": fixes,
                },
                indent=2,
            )
        )
    else:
        table = Table("check", "status", "detail", show_lines=False)
        for c in checks:
            table.add_row(escape(c.name), f"[{_STYLE[c.status]}]{c.status}[/]", escape(c.detail))
        console.print(table)
        if fixes:
            console.print("Fixes:")
            for i, fix in enumerate(fixes, 1):
                console.print(f"  {i}. {escape(fix)}", soft_wrap=True)
        else:
            console.print("[green]Nothing to fix.[/]")
    if failed:
        raise typer.Exit(1)
