"""`evals.bench_sandbox` runs end to end on a small workspace: clients in their own processes
measure both cases, and the server's CPU per request comes back from its child."""

from __future__ import annotations

from evals.bench_sandbox import goals, run


def test_the_bench_measures_both_cases_from_client_processes() -> None:
    cases, former = run(n_tasks=120, n_edges=40, seconds=0.3, client_counts=[2], seed=3, in_process=False)
    assert former == []
    assert [(c.name, c.clients) for c in cases] == [("plain", 2), ("opt_fields", 2)]
    for case in cases:
        assert case.requests > 0 and case.wall_s >= 0.3
        assert 0 < case.p50_ms <= case.p99_ms
        assert case.server_cpu_ms is not None and case.server_cpu_ms > 0
    assert goals(cases)[0][0] == "opt_fields within 1.5x of plain (2 clients)"
