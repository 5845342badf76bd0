"""`sprintpilot eval replay` — replay recorded sprints through the sandbox and the agents, score them.

Mount with `eval_app.command("replay")(replay)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly_read_only
from service.cli.render import make_console


@friendly_read_only
def replay(
    data: Annotated[
        Path,
        typer.Option(
            "--data", help="datasets root, a Koralage project folder, or a folder of recorded *.json"
        ),
    ],
    sprints: Annotated[
        str | None, typer.Option("--sprints", help="which sprints: numbers, ranges or names, e.g. '2-10,15'")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="report folder (default ./out/replay-seed<seed>)")
    ] = None,
    project: Annotated[
        str | None,
        typer.Option("--project", help="Koralage project folder name (default: every project found)"),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the derived completion schedule")] = 0,
    history: Annotated[
        int, typer.Option("--history", min=1, help="earlier sprints loaded as past sprint projects")
    ] = 6,
    triage: Annotated[
        bool, typer.Option("--triage/--no-triage", help="run triage on tasks added mid-sprint")
    ] = True,
    standup: Annotated[
        bool, typer.Option("--standup/--no-standup", help="run the stand-up at mid-sprint (at-risk scorer)")
    ] = True,
    risk: Annotated[
        bool, typer.Option("--risk/--no-risk", help="run the dependency scan at mid-sprint (risk scorer)")
    ] = True,
    retro: Annotated[
        bool, typer.Option("--retro/--no-retro", help="run the retro at sprint end (retro scorer)")
    ] = True,
    llm_cache: Annotated[
        Path | None,
        typer.Option("--llm-cache", help="replay recorded model answers from this ResponseCache dir"),
    ] = None,
    model_name: Annotated[
        str, typer.Option("--model-name", help="model name the cached answers were recorded under")
    ] = "replayed",
    as_json: Annotated[
        bool, typer.Option("--json", help="print the JSON report instead of the tables")
    ] = False,
) -> None:
    """Replay recorded sprints (every Koralage project found under --data, or --project) and score
    planner, triage, stand-up, risk, retro and forecast against what really happened."""
    from evals.replay.report import dumps
    from evals.replay.run import koralage_projects, run_replays

    out_dir = out or Path("out") / f"replay-seed{seed}"
    console = make_console(stderr=as_json)
    if not (data.is_dir() and any(data.glob("*.json"))):
        found = koralage_projects(data, project)
        console.print(f"Koralage projects to replay under {data}: {', '.join(f.name for f in found)}")
    runs = run_replays(
        data,
        out_dir=out_dir,
        project=project,
        selection=sprints,
        seed=seed,
        history=history,
        triage=triage,
        standup=standup,
        risk=risk,
        retro=retro,
        cache_dir=llm_cache,
        model_name=model_name,
        progress=None if as_json else (lambda line: console.print(f"[dim]{line}[/]")),
    )
    if as_json:
        if len(runs) == 1:
            typer.echo(dumps(runs[0][1]), nl=False)
        else:
            typer.echo("[" + ",".join(dumps(report) for _, report, _ in runs) + "]", nl=False)
        return
    for name, _, result in runs:
        folder = out_dir if len(runs) == 1 else out_dir / name
        typer.echo((folder / "report.md").read_text(encoding="utf-8"))
        console.print(
            f"Report: {folder / 'report.md'} (+ report.json, charts) · runtime {result.seconds:.1f} s"
        )
