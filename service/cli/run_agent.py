"""The body every "run one specialist" command shares.

A command (`plan`, `retro`, `risk`, `review`, `triage`, `forecast`, `health`) only declares its
options and builds its args model; `run_specialist_command` opens the runtime, checks the args
against the registered specialist's `args_model`, builds the run context (actor, approver), starts
the run on a new thread and renders the outcome (`render.finish_run`, or the command's own `show`).
The stand-up keeps its own path (service/schedules/standup.py: one thread per project and day).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from pydantic import BaseModel

from service.cli import render
from service.cli.errors import report_message
from service.cli.render import console

if TYPE_CHECKING:
    from agents.proposal import Proposal
    from graphs.runner import RunOutcome
    from service.runtime import Runtime
    from service.settings import Settings

DEFAULT_APPROVE_HINT = "Approve: [bold]sprintpilot approvals approve {pid}[/]"

# The args: a model instance, a ready dict, or built from the open runtime (e.g. to resolve users).
ArgsSource = BaseModel | dict[str, Any] | Callable[["Runtime"], BaseModel | dict[str, Any]]
# The project whose owner approves (unless an approver is configured): a name/gid, or looked up.
ApproverSource = str | Callable[["Runtime"], str | None]


@dataclasses.dataclass(frozen=True)
class AgentRun:
    """A started run, as the command's `show` sees it (the runtime is still open)."""

    rt: Runtime
    agent: str
    thread_id: str
    args: dict[str, Any]
    outcome: RunOutcome
    as_json: bool

    def proposal_id(self) -> str | None:
        """The run's proposal: the one waiting at the gate, else the one the report is about."""
        pid = (self.outcome.interrupt or {}).get("proposal_id") or (self.outcome.report or {}).get(
            "proposal_id"
        )
        return str(pid) if pid else None

    def proposal(self) -> Proposal | None:
        pid = self.proposal_id()
        record = self.rt.repo.get_proposal(pid) if pid else None
        return record.proposal if record is not None else None

    def answer(self) -> dict[str, Any] | None:
        """What the agent found (its summary and the numbers behind it), shown before the actions."""
        proposal = self.proposal()
        if proposal is None:
            return None
        return {
            "summary_markdown": proposal.summary_markdown,
            "evidence": proposal.evidence,
            "engine": proposal.model,
        }

    def calls(self) -> dict[str, Any]:
        """This process's Asana calls so far (reads, writes, retries, per method)."""
        return dataclasses.asdict(self.rt.asana.calls.snapshot())


def load_settings(data_dir: Path | None) -> Settings:
    from service.settings import load_settings as load

    return load(data_dir=data_dir) if data_dir is not None else load()


def request_args(agent: str, args: BaseModel | dict[str, Any], rt: Runtime) -> dict[str, Any]:
    """The JSON args of the run request; a model must be the registered specialist's `args_model`."""
    if isinstance(args, dict):
        return dict(args)
    if agent in rt.registry:
        expected = rt.registry.get(agent).args_model
        if not isinstance(args, expected):
            raise TypeError(f"{agent} takes {expected.__name__}, got {type(args).__name__}")
    return args.model_dump(mode="json", exclude_none=True)


def run_specialist_command(
    agent: str,
    args: ArgsSource,
    *,
    data_dir: Path | None,
    as_json: bool,
    actor: str | None = None,
    approver_project: ApproverSource | None = None,
    status_text: str | None = None,
    approve_hint: str = DEFAULT_APPROVE_HINT,
    thread_prefix: str | None = None,
    show: Callable[[AgentRun], None] | None = None,
) -> None:
    """Run `agent` once from the CLI and print the outcome.

    `actor`: who the audit log names (default `agent:<agent>`). `approver_project`: look up the
    approver (the configured one, else this project's owner) in the args' workspace; None: the
    run has no approver (its actions are all auto under the default policy). `status_text`: a
    spinner while it runs. `thread_prefix`: thread ids `<prefix>-<12 hex>` instead of 32 hex.
    `show`: render the run yourself; by default `render.finish_run` with `approve_hint` (exit 1
    when the run failed).
    """
    from graphs.runner import start_run
    from service.approvals import supersede_older
    from service.runtime import open_runtime

    with open_runtime(load_settings(data_dir)) as rt:
        built = args(rt) if callable(args) else args
        payload = request_args(agent, built, rt)
        approver: str | None = None
        if approver_project is not None:
            workspace = rt.resolve_workspace(payload.get("workspace"))
            project = approver_project(rt) if callable(approver_project) else approver_project
            approver = rt.approver_for(workspace, project)
        ctx = rt.context(actor=actor or f"agent:{agent}", approver_gid=approver)
        thread_id = f"{thread_prefix}-{uuid.uuid4().hex[:12]}" if thread_prefix else uuid.uuid4().hex
        request = {"agent": agent, "args": payload, "trigger": "cli"}
        if status_text:
            with console.status(status_text):
                outcome = start_run(rt.graph, ctx, thread_id, request)
        else:
            outcome = start_run(rt.graph, ctx, thread_id, request)
        if outcome.status == "awaiting_approval":
            supersede_older(rt, thread_id)
        run = AgentRun(rt, agent, thread_id, payload, outcome, as_json)
        if outcome.status == "error":
            # Every agent command fails the same way: one line (or the JSON), exit 1.
            if as_json:
                print_report(run)
            else:
                report_message((outcome.report or {}).get("error") or "the run failed")
            raise typer.Exit(1)
        if show is not None:
            show(run)
            return
        render.finish_run(
            outcome,
            thread_id,
            rt.asana.calls.snapshot(),
            as_json=as_json,
            approve_hint=approve_hint,
            answer=run.answer(),
        )


def print_report(run: AgentRun) -> None:
    """The report alone: its JSON, or its markdown (else the error, else the status)."""
    import json

    import typer

    report = run.outcome.report or {}
    answer = run.answer()
    if run.as_json:
        typer.echo(json.dumps({**report, "answer": answer}, indent=2, default=str))
        return
    if answer is not None and answer["summary_markdown"]:
        console.print(render.CliMarkdown(str(answer["summary_markdown"])))
    render.show_report(report)
