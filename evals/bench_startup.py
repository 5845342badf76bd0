"""`sprintpilot --help` start-up time beside a bare typer app's, in the same run (issue 23).

    python -m evals.bench_startup [--runs 7]

Each command is a fresh process (what a person typing it waits for), run alternately so that the
machine's noise falls on both; the table gives each one's min/median wall time and the ratio of the
medians. Goal: sprintpilot's `--help` under 0.3 s. The reference is the floor any typer CLI pays
(the interpreter, typer and click): lazy command imports are meant to keep sprintpilot near it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

GOAL_S = 0.3
BARE_APP = (
    "import typer\n"
    "app = typer.Typer(help='bare')\n"
    "@app.command()\n"
    "def hello(name: str = 'x') -> None:\n"
    "    print(name)\n"
    "@app.command()\n"
    "def bye() -> None:\n"
    "    pass\n"
    "app()\n"
)


def _sprintpilot() -> list[str]:
    script = Path(sys.executable).with_name("sprintpilot")
    if script.exists():
        return [str(script), "--help"]
    return [sys.executable, "-m", "service.cli.main", "--help"]


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.decode()[-300:]}")
    return elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (default 7)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    commands = {
        "sprintpilot --help": _sprintpilot(),
        "bare typer app --help": [sys.executable, "-c", BARE_APP, "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():
        _time(cmd)  # warm the file cache; not counted
    for _ in range(args.runs):
        for name, cmd in commands.items():
            times[name].append(_time(cmd))
    ours, bare = (statistics.median(times[n]) for n in commands)
    print("| command | runs | min s | median s |\n|---|---:|---:|---:|")
    for name, runs in times.items():
        print(f"| {name} | {len(runs)} | {min(runs):.3f} | {statistics.median(runs):.3f} |")
    verdict = "met" if ours < GOAL_S else "NOT met"
    print(f"\nsprintpilot / bare typer (medians): {ours / bare:.2f}x; goal --help < {GOAL_S} s: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
