"""`sprintpilot` — plan sprints, review proposals and approve them, audit what was written."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from service.cli import render
from service.cli.errors import friendly
from service.cli.lazy import LazyCommand, LazyGroup
from service.cli.render import console
from service.logsafe import SafeFormatter
from tools.errors import UserError

_SANDBOX_HELP = "Run the local Asana sandbox on 127.0.0.1 and print its base URL and token."

app = typer.Typer(
    cls=LazyGroup,
    name="sprintpilot",
    help="AI agents for Asana-driven agile teams. Every change is a proposal that a human approves.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
approvals_app = typer.Typer(
    help="Review, approve, edit or reject proposals waiting at the gate.", no_args_is_help=True
)
audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)
db_app = typer.Typer(help="The app database (runs, proposals, ledger, audit).", no_args_is_help=True)
app.add_typer(approvals_app, name="approvals")
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")


class _NoTraceback(SafeFormatter):
    """Users get one line per problem; SPRINTPILOT_DEBUG=1 brings tracebacks back."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's API
        return ""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = ""
        text = super().format(record)
        return text.rstrip()


@app.callback()
def _main() -> None:
    handler = logging.StreamHandler()
    debug = os.environ.get("SPRINTPILOT_DEBUG", "") not in {"", "0", "false"}
    handler.setFormatter(
        SafeFormatter("%(levelname)s %(name)s: %(message)s")
        if debug
        else _NoTraceback("%(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    render.fit_width()  # piped output is 100 columns (or $COLUMNS), not rich's 80


DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Where the embedded DB and sandbox state live.", show_default=False),
]


def _settings(data_dir: Path | None = None, **overrides: Any) -> Any:
    from service.settings import load_settings

    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return load_settings(**overrides)


def _print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str, sort_keys=True))


@app.command()
@friendly
def plan(
    project: Annotated[str, typer.Option(help="Backlog project: gid or name.")] = "Product Backlog",
    capacity: Annotated[float | None, typer.Option(help="Points; overrides the historical velocity.")] = None,
    sprint_name: Annotated[
        str | None, typer.Option(help="Name of the new sprint (default: next number).")
    ] = None,
    formula: Annotated[
        str | None,
        typer.Option(help="Score formula over business_value, effort, points, priority_rank, age_days."),
    ] = None,
    include_blocked: Annotated[bool, typer.Option(help="Allow items whose Status is Blocked.")] = False,
    goal: Annotated[
        str | None, typer.Option(help="Asana goal (gid or name) the sprint supports: proposes linking them.")
    ] = None,
    availability: Annotated[
        list[str],
        typer.Option(
            "--availability",
            help="PERSON=POINTS (gid, email or name), repeatable; per-person capacity instead of history.",
        ),
    ] = [],  # noqa: B006 - typer needs a literal default
    workspace: Annotated[str | None, typer.Option(help="Workspace gid (default: the first allowed).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Plan the next sprint from a backlog and put the proposal up for approval."""
    from agents.planner import PLANNER_NAME, PlannerArgs

    def args(rt: Any) -> PlannerArgs:
        ws = rt.resolve_workspace(workspace)
        return PlannerArgs(
            project=project,
            capacity=capacity,
            sprint_name=sprint_name,
            formula=formula,
            include_blocked=include_blocked,
            goal=goal,
            workspace=workspace,
            availability=_availability(rt, ws, availability),
        )

    from service.cli.run_agent import run_specialist_command  # pydantic and the runtime: not for --help

    run_specialist_command(
        PLANNER_NAME,
        args,
        data_dir=data_dir,
        as_json=as_json,
        approver_project=project,
        status_text="planning: reading the backlog and sprint history, solving…",
        approve_hint="Approve in Asana (approval task) then run [bold]sprintpilot approvals sync[/], "
        "or here: [bold]sprintpilot approvals approve {pid}[/]",
    )


def _availability(rt: Any, workspace: str, values: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for raw in values:
        who, sep, pts = raw.rpartition("=")
        if not sep or not who.strip():
            raise UserError(f"--availability must look like PERSON=POINTS, got {raw!r}")
        try:
            points = float(pts)
        except ValueError:
            raise UserError(f"--availability {raw!r}: {pts!r} is not a number") from None
        # Capacity is no permission, so a display name is fine here (identities elsewhere are not).
        name = who.strip()
        person = rt.directory.find(workspace, name) or next(
            (p for p in rt.directory.people(workspace) if (p.name or "").casefold() == name.casefold()), None
        )
        if person is None:
            raise UserError(f"--availability {raw!r}: no user {name!r} in workspace {workspace}")
        out[person.gid] = points
    return out


@approvals_app.command("list")
@friendly
def approvals_list(
    all_: Annotated[bool, typer.Option("--all", help="Include decided proposals.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    data_dir: DataDir = None,
) -> None:
    """Proposals waiting for a decision (or all of them with --all)."""
    from service.runtime import open_runtime

    with open_runtime(_settings(data_dir)) as rt:
        records = rt.repo.list_proposals() if all_ else rt.repo.pending_approvals()
        if as_json:
            _print_json([r.model_dump(mode="json", exclude={"proposal"}) for r in records])
            return
        if not records:
            console.print("No proposals waiting for approval." if not all_ else "No proposals yet.")
            return
        console.print(render.proposals_table(records))


@approvals_app.command("show")
@friendly
def approvals_show(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id or a unique prefix.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    data_dir: DataDir = None,
) -> None:
    """One proposal: summary, every action waiting for approval, decisions so far.

    Actions are numbered from 1 (their place in the proposal), as `approve --reject-action N` takes them.

    The apply report, the chat and the Asana comment use the same numbers; auto actions are not listed.
    """
    from graphs.runner import pending_interrupt
    from service.approvals import find_proposal
    from service.runtime import open_runtime

    with open_runtime(_settings(data_dir)) as rt:
        record = find_proposal(rt, proposal_id)
        request = pending_interrupt(rt.graph, record.thread_id)
        detail = rt.repo.get_proposal(record.id)
        if as_json:
            _print_json(
                {
                    "proposal": record.model_dump(mode="json"),
                    "pending_request": request,
                    "decisions": [d.model_dump(mode="json") for d in (detail.decisions if detail else [])],
                }
            )
            return
        if request:
            render.show_request(request)
        else:
            console.print(f"[bold]{record.title}[/] — status [bold]{record.status}[/] (nothing pending)")
            console.print(render.CliMarkdown(record.proposal.summary_markdown))
        if detail and detail.decisions:
            console.print(f"{len(detail.decisions)} decisions recorded.")


def _parse_numbered(values: list[str], sep: str, what: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for raw in values:
        num, _, rest = raw.partition(sep)
        if not num.strip().isdigit():
            raise UserError(f"{what} must look like N{sep}..., got {raw!r}")
        out[int(num)] = rest
    return out


@approvals_app.command("approve")
@friendly
def approvals_approve(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id or a unique prefix.")],
    reject_action: Annotated[
        list[str],
        typer.Option(
            "--reject-action",
            help="N or N:reason — reject action N (numbered from 1, as `approvals show` prints), "
            "approve the rest.",
        ),
    ] = [],  # noqa: B006 - typer needs a literal default
    edit: Annotated[
        list[str],
        typer.Option(
            "--edit",
            help='N=JSON — change action N (as `approvals show` numbers it), e.g. 3=\'{"params": '
            '{"assignee": "123"}}\'.',
        ),
    ] = [],  # noqa: B006
    as_user: Annotated[
        str,
        typer.Option(
            "--as",
            help="Who decides: your Asana email or gid (must be one of SPRINTPILOT_APPROVERS when "
            "that is set; recorded in the audit log).",
        ),
    ] = "cli",
    data_dir: DataDir = None,
) -> None:
    """Approve a proposal (optionally rejecting or editing single actions) and apply it."""
    from service.approvals import build_decisions, decide, find_proposal, pending_request
    from service.runtime import open_runtime

    with open_runtime(_settings(data_dir)) as rt:
        record = find_proposal(rt, proposal_id)
        request = pending_request(rt, record)
        decisions = build_decisions(
            request,
            reject=_parse_numbered(reject_action, ":", "--reject-action"),
            edits=_parse_numbered(edit, "=", "--edit"),
        )
        with console.status("applying approved actions to Asana…"):
            outcome = decide(rt, record, decisions, f"cli:{as_user}", request.get("digest"))
        _after_decision(outcome)


@approvals_app.command("reject")
@friendly
def approvals_reject(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id or a unique prefix.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")] = "rejected",
    as_user: Annotated[
        str, typer.Option("--as", help="Who decides: your Asana email or gid (see `approve --as`).")
    ] = "cli",
    data_dir: DataDir = None,
) -> None:
    """Reject every action of a proposal; nothing is written to Asana."""
    from service.approvals import build_decisions, decide, find_proposal, pending_request
    from service.runtime import open_runtime

    with open_runtime(_settings(data_dir)) as rt:
        record = find_proposal(rt, proposal_id)
        request = pending_request(rt, record)
        decisions = build_decisions(request, reject_all=True, message=reason)
        outcome = decide(rt, record, decisions, f"cli:{as_user}", request.get("digest"))
        _after_decision(outcome)


def _after_decision(outcome: Any) -> None:
    if outcome.status == "awaiting_approval":
        from service.cli.errors import report_message

        report_message(f"decision refused: {outcome.invalid_decision}")  # on stderr, like every error
        raise typer.Exit(1)
    render.show_report(outcome.report)


@approvals_app.command("resume")
@friendly
def approvals_resume(
    proposal_id: Annotated[
        str | None, typer.Argument(help="Proposal id or a unique prefix (default: every unfinished one).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Finish approved or automatic work that stopped on a fault, Ctrl-C or a dead worker."""
    from service.approvals import find_proposal, resume, resume_interrupted
    from service.runtime import open_runtime

    with open_runtime(_settings(data_dir)) as rt:
        with console.status("resuming from the action ledger…"):
            if proposal_id is None:
                done = resume_interrupted(rt, lock_wait_s=5.0)
            else:
                record = find_proposal(rt, proposal_id)
                outcome = resume(rt, record)
                done = [] if outcome is None else [(record.id, outcome)]
        if not done:
            console.print("Nothing to resume: no approved or automatic work stopped part-way.")
        for pid, outcome in done:
            console.print(f"proposal {pid[:12]} resumed:")
            _after_decision(outcome)


@approvals_app.command("sync")
@friendly
def approvals_sync(data_dir: DataDir = None) -> None:
    """Resume what was decided in Asana's approval tasks, and finish approved work that stopped.

    Every proposal approved, rejected or sent back in its Asana approval task is resumed."""
    from service.approvals import close_stale, resume_interrupted, sync_from_asana
    from service.runtime import open_runtime

    with open_runtime(_settings(data_dir)) as rt:
        with console.status("reading approval tasks in Asana…"):
            resumed = resume_interrupted(rt, lock_wait_s=5.0)
            results = sync_from_asana(rt)
            closed = close_stale(rt)
        for item in closed:
            console.print(f"proposal {item.proposal_id[:12]} closed: {item.reason}")
        for pid, outcome in resumed:
            console.print(f"proposal {pid[:12]} resumed (it had stopped part-way):")
            render.show_report(outcome.report)
        if not results and not resumed and not closed:
            console.print("No pending proposals with an approval task.")
        for r in results:
            console.print(
                f"proposal {r.proposal_id[:12]} — approval task {r.approval_task_gid}: {r.asana_status}"
            )
            if r.outcome is not None:
                render.show_report(r.outcome.report)


@audit_app.command("verify")
@friendly
def audit_verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="File of exported checkpoints (JSON lines from `audit checkpoint`) to hold the log against."
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Recompute the audit log's hash chain and check it against its signed head (and exported
    checkpoints): name the first tampered row if any; exit 2 when tampered."""
    from service.db.audit import audit_key_of
    from service.db.audit_verify import Checkpoint, verify_chain

    checkpoints = []
    if checkpoint is not None:
        for n, line in enumerate(checkpoint.read_text().splitlines(), 1):
            if line.strip():
                try:
                    checkpoints.append(Checkpoint.model_validate_json(line))
                except ValueError:
                    raise UserError(
                        f"{checkpoint}:{n} is not a checkpoint line from `audit checkpoint`"
                    ) from None
    with _audit_engine(data_dir) as engine:
        result = verify_chain(engine, key=audit_key_of(engine), checkpoints=checkpoints)
    if result.ok:
        console.print(
            f"[green]audit log OK[/]: {result.rows_checked} rows, head {str(result.head_hash)[:16]}…"
        )
        return
    console.print(f"[bold red]audit log TAMPERED[/] at row {result.first_bad_id}: {result.reason}")
    raise typer.Exit(2)


@audit_app.command("checkpoint")
@friendly
def audit_checkpoint(
    out: Annotated[
        Path | None,
        typer.Option(help="Append the checkpoint line to this file (keep it off the database host)."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Export the audit chain's signed head as one JSON line, to keep or post elsewhere; a later
    `audit verify --checkpoint FILE` proves nothing up to it was removed or rewritten."""
    from service.db.audit_verify import export_checkpoint

    with _audit_engine(data_dir) as engine:
        cp = export_checkpoint(engine)
    if cp is None:
        raise UserError("the audit log is empty: nothing to checkpoint yet")
    line = cp.model_dump_json()
    if out is not None:
        with out.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    typer.echo(line)


@contextmanager
def _audit_engine(data_dir: Path | None) -> Iterator[Any]:
    """The app database for the audit commands, schema-checked, disposed afterwards."""
    from service.db.engine import make_engine
    from service.db.migrate import ensure_schema

    engine = make_engine(_settings(data_dir))
    try:
        ensure_schema(engine)
        yield engine
    finally:
        engine.dispose()


@audit_app.command("show")
@friendly
def audit_show(
    limit: Annotated[
        int, typer.Option(min=1, max=100_000, help="How many rows, newest first (at most 100,000).")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    data_dir: DataDir = None,
) -> None:
    """The newest audit rows."""
    from service.db.audit import SqlAuditLog

    with _audit_engine(data_dir) as engine:
        rows = SqlAuditLog(engine).rows(limit=limit)
    if as_json:
        _print_json([r.model_dump(mode="json") for r in rows])
        return
    console.print(render.wide_or_narrow(lambda narrow: _audit_table(rows, narrow)))


def _audit_table(rows: list[Any], narrow: bool) -> Table:
    """Newest audit rows; in a narrow terminal the outcome goes under the event, the year goes."""
    table = Table(title=f"Audit log (newest {len(rows)})")
    render.add_column(table, "id", ident=True, justify="right")
    render.add_column(table, "time (UTC)", ident=True)
    render.add_column(table, "actor")
    render.add_column(table, "event")
    if not narrow:
        render.add_column(table, "outcome")
    render.add_column(table, "target", ident=True)
    for r in rows:
        when = r.ts_utc.strftime("%m-%d %H:%M:%S" if narrow else "%Y-%m-%d %H:%M:%S")
        event = escape(r.event)
        cells = [str(r.id), when, escape(r.actor)]
        cells += [f"{event}\n[dim]{escape(r.outcome)}[/]"] if narrow else [event, escape(r.outcome)]
        table.add_row(*cells, escape(r.target or "-"))
    return table


@db_app.command("migrate")
@friendly
def db_migrate(data_dir: DataDir = None) -> None:
    """Create or upgrade the app database schema (idempotent)."""
    from service.db.migrate import migrate
    from service.settings import redact_url

    settings = _settings(data_dir)
    rev = migrate(settings)
    console.print(f"database {redact_url(settings.db_url)} at revision {rev}")


@app.command()
@friendly
def config(data_dir: DataDir = None) -> None:
    """Show the effective settings (secrets masked)."""
    _print_json(_settings(data_dir).redacted())


@app.command()
@friendly
def demo(
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep the demo's DB and sandbox here (default: a fresh temp dir).")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Seed of the synthetic team workspace (default 7). A --data-dir that already holds "
            "a demo keeps its workspace; another seed there is refused.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Plan a sprint in the seeded sandbox, approve it through Asana, apply it, verify the audit log."""
    from service.demo import run_demo

    run_demo(data_dir=data_dir, seed=seed)


# Commands that live in their own modules (one per area), imported when they run.
LazyGroup.lazy = {
    "sandbox": LazyCommand("sandbox.cli:run_sandbox", _SANDBOX_HELP, help=_SANDBOX_HELP),
    "serve": LazyCommand(
        "service.cli.serve:serve", "Run the HTTP API: webhook receiver, approvals, /healthz and /metrics."
    ),
    "webhooks": LazyCommand(
        "service.cli.serve:webhooks_app",
        "Asana webhooks that feed the event pipeline (real Asana or a `sprintpilot sandbox` server).",
    ),
    "auth": LazyCommand(
        "service.cli.auth:auth_app", "Log in to Asana with OAuth (an alternative to SPRINTPILOT_ASANA_TOKEN)."
    ),
    "standup": LazyCommand(
        "service.cli.standup:standup",
        "Post today's stand-up for a sprint project (at most one per project per day).",
    ),
    "review": LazyCommand(
        "service.cli.review:review",
        "Check a task against the Definition of Done; comment the gaps or propose the move.",
    ),
    "retro": LazyCommand(
        "service.cli.retro:retro",
        "Sprint retrospective: numbers, sentiment, themes → retro notes, action items, review draft.",
    ),
    "sprint-review": LazyCommand(
        "service.cli.sprint_review:sprint_review",
        "Sprint review document: delivered work by epic with demo notes, what slipped and why.",
    ),
    "ceremony": LazyCommand(
        "service.cli.ceremony:ceremony",
        "Prepare a ceremony: agenda task (due at its start) with an .ics invite; reminder the day before.",
    ),
    "triage": LazyCommand(
        "service.cli.triage:triage",
        "Estimate story points (with similar past tasks), find acceptance criteria, score priority and risk.",
    ),
    "chat": LazyCommand(
        "service.cli.chat:chat",
        "Chat with the supervisor: questions, specialist runs and approvals in one conversation.",
    ),
    "worker": LazyCommand(
        "service.cli.worker:worker",
        "Run a Celery worker: processes Asana events, relays the outbox, reconciles, syncs approvals.",
    ),
    "beat": LazyCommand(
        "service.cli.worker:beat",
        "Run the scheduler (exactly one per deployment): relay every 2 s, reconcile, approval sync.",
    ),
    "risk": LazyCommand(
        "service.cli.dependencies:deps",
        "Dependency graph check and delay cascade: Risk Scores and alerts now, due-date shifts for approval.",
    ),
    "deps": LazyCommand(
        "service.cli.dependencies:deps", "Alias of `risk`.", hidden=True, help="Alias of `risk`."
    ),
    "forecast": LazyCommand(
        "service.cli.forecast:forecast",
        "Forecast the next sprints (P50/P85/P95), when the scope will be done, and capacity per person.",
    ),
    "health": LazyCommand(
        "service.cli.health:health", "Score the portfolio's team(s) and post the result as a status update."
    ),
    "scorecard": LazyCommand(
        "service.cli.scorecard:scorecard",
        "Live accuracy scorecard per agent: estimates, flags, forecast calibration, nudges, approvals.",
    ),
    "doctor": LazyCommand(
        "service.cli.doctor:doctor",
        "Check the token, workspaces, custom fields, plan, webhooks, clock, database and broker.",
    ),
    "mcp": LazyCommand(
        "service.cli.mcp:mcp",
        "Run the MCP server on stdio (for Claude Desktop, VS Code and other MCP clients).",
    ),
    "eval": LazyCommand("service.cli.evals:eval_app", "Offline evaluations on public datasets."),
}


if __name__ == "__main__":
    app()
