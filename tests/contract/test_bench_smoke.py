from __future__ import annotations

import pytest

from tests.contract.conftest import Target

pytestmark = pytest.mark.contract


def test_read_benchmark_meets_its_call_budget(target: Target) -> None:
    target.require_sandbox("the benchmark builds its project inside the sandbox store")
    from evals.bench_asana_read import render, run

    result = run(n_tasks=250, n_edges=300, pages=3, seed=7)
    assert result.problems == [], render(result)
    assert result.calls_by_method["GET /projects/{gid}/tasks"] == 3
    assert result.calls_total == result.expected_min == 3 + 3
    assert result.page_fetches >= 3
