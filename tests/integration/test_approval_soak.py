"""A short run of the approval fault soak (`python -m evals.soak_approvals` runs 200 proposals)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.soak_approvals import run_soak, soak_stack

pytestmark = pytest.mark.integration


def test_many_hands_and_faults_keep_the_approval_promise(tmp_path: Path, pg_url: str) -> None:
    with soak_stack(pg_url, tmp_path) as (rt, url):
        result = run_soak(rt, url, proposals=24, seed=5, progress=lambda _: None)
    assert result.errors == []
    assert result.not_final == 0, result.table()
    assert result.duplicate_changes == 0 and result.changes_without_approval == 0, result.table()
    assert result.duplicate_comments == 0 and result.audit_ok, result.table()
    assert result.approved_changes > 0 and sum(result.faults.values()) > 0, result.table()


def test_the_promise_holds_with_real_celery_workers_sweeping() -> None:
    """The same soak with the sweep done by real Celery worker processes and beat (and Asana
    approvals resumed from webhook events), not by threads in the test process."""
    from evals.soak_approvals import celery_soak_stack

    with celery_soak_stack() as (rt, url, sandbox):
        result = run_soak(rt, url, proposals=16, seed=2, progress=lambda _: None, sandbox=sandbox, sweepers=0)
    assert result.errors == [] and result.not_final == 0, result.table()
    # The workers, not this process's final settling, finished every decided proposal.
    assert result.left_after_faults == 0, result.table()
    assert result.duplicate_changes == 0 and result.changes_without_approval == 0, result.table()
    assert result.duplicate_comments == 0 and result.audit_ok, result.table()
