"""The QA / Definition-of-Done reviewer as a registered specialist.

args → read the task (subtasks, comments, attachments, fields) → resolve the DoD (see
tools.dod.loader for the precedence) → evaluate it in code → phrase the comment → Proposal.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agents.proposal import PromptRef, Proposal, Scope
from agents.qa.inputs import (
    QaReader,
    find_dod_task,
    is_ready,
    read_review_inputs,
    review_project,
)
from agents.qa.proposal import QA_NAME, MovePlan, make_proposal, plan_move
from agents.qa.schemas import QaCommentText
from graphs.registry import Specialist, Target
from tools.dod.checks import evaluate, quote
from tools.dod.config import DodConfig, ReadyMarker
from tools.dod.loader import LoadedDod, config_from_data, load_dod_file, project_file, resolve_dod

if TYPE_CHECKING:
    from graphs.context import RunContext

PROMPT_ID = "qa_review_comment"


class QaArgs(BaseModel):
    """What a caller (CLI, event route, chat, eval) may ask the QA reviewer for."""

    model_config = ConfigDict(extra="forbid")

    task: str = Field(description="gid of the task to review")
    project: str | None = Field(default=None, description="project gid to review in (default: inferred)")
    workspace: str | None = Field(default=None, description="workspace gid (default: the project's)")
    dod: dict[str, Any] | None = Field(
        default=None, description="an explicit DoD document (highest precedence)"
    )
    dod_source: str | None = Field(default=None, description="label of the explicit DoD (e.g. its file path)")
    # Event triggers set this: a task no longer in review by the time the run starts is left alone.
    require_ready: bool = False

    @field_validator("task", "project", "workspace")
    @classmethod
    def _gid(cls, v: str | None) -> str | None:
        if v is not None and not v.strip().isdigit():
            raise ValueError(f"{v!r} is not an Asana gid")
        return None if v is None else v.strip()


class QaConfig(BaseModel):
    """Deployment settings the composition root passes in (agents never read env or settings)."""

    dod_file: Path | None = None
    dod_dir: Path | None = None


def _resolve(
    args: QaArgs, cfg: QaConfig, asana: QaReader, project_gid: str, project_name: str | None
) -> LoadedDod:
    explicit: LoadedDod | None = None
    if args.dod is not None:
        source = args.dod_source or "args"
        explicit = LoadedDod(config_from_data(args.dod, source), source=f"explicit:{source}")
    elif cfg.dod_file is not None:
        explicit = load_dod_file(cfg.dod_file)
    if explicit is not None:
        return explicit
    per_project = project_file(cfg.dod_dir, project_gid, project_name) if cfg.dod_dir else None
    if per_project is not None:
        return resolve_dod(project_yaml=per_project)
    dod_task = find_dod_task(asana, project_gid)
    return resolve_dod(
        dod_task_notes=dod_task.notes if dod_task else None, dod_task_gid=dod_task.gid if dod_task else None
    )


def _not_ready(args: QaArgs, workspace: str, project_gid: str, name: str, config: DodConfig) -> Proposal:
    """An event fired but the task is no longer in review: nothing to write."""
    return Proposal(
        agent=QA_NAME,
        scope=Scope(workspace_gid=workspace, project_gids=[project_gid]),
        title=f"No DoD review: {quote(name)} is not ready for review",
        summary_markdown=(
            f"{quote(name)} is neither in the “{config.ready.section}” section nor has "
            f"{config.ready.status_field} = “{config.ready.status}”; the review was skipped."
        ),
        evidence={"was_ready_for_review": False, "task": args.task},
        actions=[],
    )


def _phrase(ctx: RunContext, variables: dict[str, Any]) -> tuple[QaCommentText, str, list[PromptRef]]:
    from tools.llm.engine import LanguageEngine

    engine = ctx.language or LanguageEngine()
    text, label = engine.write(PROMPT_ID, variables, QaCommentText)
    return text, label, [engine.prompt_ref(PROMPT_ID)]


def run_qa(raw_args: dict[str, Any], ctx: RunContext, cfg: QaConfig | None = None) -> Proposal:
    args = QaArgs.model_validate(raw_args)
    cfg = cfg or QaConfig()
    asana: QaReader = ctx.asana  # type: ignore[assignment]
    inputs = read_review_inputs(asana, args.task)
    task = inputs.task
    # The project (hence its DoD) is chosen before the DoD is known: use the default ready marker.
    project_gid = review_project(task, ReadyMarker(), args.project, ctx.allowed_project_gids)
    if project_gid is None:
        raise ValueError(f"task {args.task} is in no project inside the allowed scope")
    project = asana.project(project_gid)
    workspace = args.workspace or (project.workspace.gid if project.workspace else None)
    if workspace is None:
        raise ValueError(f"cannot tell the workspace of project {project_gid}")
    loaded = _resolve(args, cfg, asana, project_gid, project.name)
    ready = is_ready(task, loaded.config.ready)
    if args.require_ready and not ready:
        return _not_ready(args, workspace, project_gid, task.name or task.gid, loaded.config)
    report = evaluate(inputs.snapshot, loaded.config)
    move = (
        plan_move(task, loaded.config.on_pass, project_gid, asana.sections(project_gid))
        if report.passed
        else MovePlan(actions=[], notes=[])
    )
    variables = {
        "task_name": task.name or task.gid,
        "outcome": "pass" if report.passed else "fail",
        "unmet_count": len(report.findings),
        "move": move.describe() if report.passed else "",
        "findings": [{"item": f.item, "satisfy": f.satisfy} for f in report.findings],
        "checks": [{"id": c.id, "passed": c.passed, "summary": c.summary} for c in report.checks],
    }
    text, engine, prompts = _phrase(ctx, variables)
    return make_proposal(
        task=task,
        workspace_gid=workspace,
        project_gid=project_gid,
        report=report,
        loaded=loaded,
        move=move,
        text=text,
        engine=engine,
        prompts=prompts,
        ready=ready,
    )


def qa_specialist(dod_file: str | Path | None = None, dod_dir: str | Path | None = None) -> Specialist:
    cfg = QaConfig(dod_file=Path(dod_file) if dod_file else None, dod_dir=Path(dod_dir) if dod_dir else None)

    def run(args: dict[str, Any], ctx: RunContext) -> Proposal:
        return run_qa(args, ctx, cfg)

    return Specialist(
        name=QA_NAME,
        description="Review a task against the Definition of Done: subtasks, attachments, links, "
        "acceptance criteria evidence, required fields; propose the move when everything passes.",
        run=run,
        args_model=QaArgs,
        verbs=("review", "qa"),
        expects=Target("task", "task", help="Definition-of-Done review"),
        project_kind="any",
    )
