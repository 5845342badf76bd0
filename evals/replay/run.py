"""Entry point shared by the CLI and tests: load recordings, replay, score, write the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from evals.converters.koralage import convert_koralage
from evals.datasets.csvrows import DatasetError
from evals.datasets.sprints import discover_koralage, read_koralage, require_folder
from evals.recorded.io import load_recorded_dir
from evals.recorded.models import RecordedSprint
from evals.replay.harness import DEFAULT_HISTORY, ReplayConfig, ReplayResult, replay
from evals.replay.report import write_report
from evals.replay.scorers import run_scorers, scorer_names
from tools.errors import UserError
from tools.llm.cache import ResponseCache
from tools.llm.engine import LanguageEngine


def koralage_projects(data: Path, project: str | None = None) -> list[Path]:
    """The Koralage project folders (a ``sprints.csv``) under `data`: the one named, else all of them."""
    require_folder(data)
    found = discover_koralage(data)
    names = ", ".join(f.name for f in found) or "none"
    if project:
        named = [f for f in found if f.name.casefold() == project.casefold()]
        if not named:
            raise DatasetError(data, None, f"no Koralage project {project!r} here (found: {names})")
        return named[:1]
    if not found:
        raise DatasetError(
            data, None, "no Koralage project (sprints.csv) and no recorded sprints (*.json) here"
        )
    return found


def load_recordings(
    data: Path, project: str | None = None, seed: int = 0
) -> tuple[list[RecordedSprint], str]:
    """Saved recordings (`*.json`) in `data`, else one Koralage project converted in memory (the one
    named, or the only one found; several found and none named is an error naming them)."""
    if data.is_dir() and any(data.glob("*.json")):
        return load_recorded_dir(data), f"recorded sprints in {data.name}"
    folders = koralage_projects(data, project)
    if len(folders) > 1:
        names = ", ".join(f.name for f in folders)
        raise UserError(f"several Koralage projects under {data} ({names}): name one with --project")
    folder = folders[0]
    return convert_koralage(read_koralage(folder), seed=seed), f"koralage2020/{folder.name}"


def parse_selection(text: str | None, sprints: list[RecordedSprint]) -> set[int] | None:
    """ "1-5,9" (sequence numbers) or sprint names ("Sprint 3"); None = all."""
    if not text:
        return None
    by_name = {s.name.casefold(): s.sequence for s in sprints}
    chosen: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.casefold() in by_name:
            chosen.add(by_name[part.casefold()])
        elif "-" in part and all(x.strip().isdigit() for x in part.split("-", 1)):
            lo, hi = (int(x) for x in part.split("-", 1))
            chosen |= set(range(lo, hi + 1))
        elif part.isdigit():
            chosen.add(int(part))
        else:
            raise UserError(
                f"--sprints: {part!r} is neither a sprint number, a range (3-7) nor a sprint name"
            )
    known = {s.sequence for s in sprints}
    if not chosen & known:
        raise UserError(f"--sprints selects none of the {len(sprints)} recorded sprints")
    return chosen & known


def language_engine(cache_dir: Path | None, model_name: str) -> LanguageEngine:
    """With a cache dir: answer only from recorded model answers (offline fallback on a miss)."""
    if cache_dir is None:
        return LanguageEngine()
    return LanguageEngine(model_name=model_name, cache=ResponseCache(cache_dir), replay_only=True)


def run_replay(
    data: Path,
    *,
    out_dir: Path,
    selection: str | None = None,
    project: str | None = None,
    seed: int = 0,
    history: int = DEFAULT_HISTORY,
    triage: bool = True,
    standup: bool = True,
    risk: bool = True,
    retro: bool = True,
    cache_dir: Path | None = None,
    model_name: str = "replayed",
    charts: bool = True,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], ReplayResult]:
    sprints, dataset = load_recordings(data, project, seed)
    if not sprints:
        raise UserError(f"no recorded sprints found in {data}")
    only = parse_selection(selection, sprints)
    engine = language_engine(cache_dir, model_name)
    config = ReplayConfig(
        history=history,
        triage=triage,
        standup=standup,
        risk=risk,
        retro=retro,
        language=engine,
        progress=progress,
    )
    result = replay(sprints, config, only=only)
    # Only the scorers of agents that ran (the forecast scorer needs no agent).
    skipped = {n for n, on in (("triage", triage), ("standup", standup), ("risk", risk), ("retro", retro))
               if not on}  # fmt: skip
    sections = run_scorers(result.sprints, [n for n in scorer_names() if n not in skipped])
    meta = {
        "dataset": dataset,
        "sprints_recorded": len(sprints),
        "sprints_replayed": len(result.sprints),
        "selection": selection or "all",
        "seed": seed,
        "history": history,
        "triage": triage,
        "agents": {"standup": standup, "risk": risk, "retro": retro},
        "engine": engine.label if engine else "offline",
    }
    report = write_report(out_dir, meta, sections, result.sprints, runtime_s=result.seconds, charts=charts)
    return report, result


def run_replays(
    data: Path, *, out_dir: Path, project: str | None = None, **options: Any
) -> list[tuple[str, dict[str, Any], ReplayResult]]:
    """Replay every Koralage project found under `data` (or only `project`), or the recorded sprints
    in it: one report each, in `out_dir` for one project and `out_dir/<project>/` for several."""
    if data.is_dir() and any(data.glob("*.json")):
        report, result = run_replay(data, out_dir=out_dir, **options)
        return [(data.name, report, result)]
    folders = koralage_projects(data, project)
    runs = []
    for folder in folders:
        target = out_dir if len(folders) == 1 else out_dir / folder.name
        report, result = run_replay(folder, out_dir=target, project=folder.name, **options)
        runs.append((folder.name, report, result))
    return runs
