"""Asana calls per event kind, by endpoint (issue 23): `python -m evals.bench_calls_per_event`.

Each case (evals/calls_per_event.py) runs twice on one embedded sandbox: the first handling reads
what a process reads once (the project's field settings), the second is the steady state.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from evals.calls_per_event import CASES, measure_case
from service.runtime import open_runtime
from service.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=2, help="handlings per case (default 2)")
    args = parser.parse_args(argv)
    settings = load_settings(data_dir=Path(tempfile.mkdtemp()), asana_base_url=None, model="offline")
    print("| case | handling | calls | writes | by endpoint |")
    print("|---|---:|---:|---:|---|")
    with open_runtime(settings) as rt:
        for name, case in CASES.items():
            for n in range(1, args.repeat + 1):
                m = measure_case(rt, case)
                writes = sum(v for k, v in m.by_endpoint.items() if not k.startswith("GET "))
                parts = ", ".join(f"{k} ×{v}" for k, v in sorted(m.by_endpoint.items()))
                print(f"| {name} | {n} | {m.calls} | {writes} | {parts} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
