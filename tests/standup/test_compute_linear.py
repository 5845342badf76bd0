"""Stand-up compute is linear in the sprint's changes and its output did not change (issue 23).

The sprints are generated (evals/bench_standup.py `synthetic_inputs`, seeded). The digests were
recorded from `compute_standup` before the change (every started task scanned every change, every
person's workload scanned every task); the benchmark keeps those algorithms as its reference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from agents.standup.compute import compute_standup
from evals.bench_standup import reference_standup, synthetic_inputs
from tools.standup import capacity
from tools.standup.blockers import find_blockers
from tools.standup.models import Change

# (tasks, seed) → sha256 of the Standup's JSON with the default arguments, and with
# stale_days=2, due_soon_days=3, own_comment_tag="looks" (16 hex digits each).
PINNED = {
    (40, 1): ("f9538cbf7da78b0f", "ad6d78042cf96c93"),
    (150, 2): ("327d02d514f98c60", "d99812d7074131ba"),
    (400, 3): ("7606fcc6221391e1", "09eaf99ffeb83abc"),
}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@pytest.mark.parametrize(("size", "seed"), sorted(PINNED))
def test_output_is_byte_identical_to_the_former_computation(size: int, seed: int) -> None:
    inputs = synthetic_inputs(size, seed=seed)
    default = compute_standup(inputs, stale_days=3, due_soon_days=2)
    other = compute_standup(inputs, stale_days=2, due_soon_days=3, own_comment_tag="looks")
    assert (_digest(default.model_dump_json()), _digest(other.model_dump_json())) == PINNED[(size, seed)]
    # The sprint exercises every rule the rewrite touched.
    kinds = {k for b in default.blockers for k in b.kinds} | {k for r in default.at_risk for k in r.kinds}
    assert {"stale", "stuck_comment", "dependency", "capacity", "overdue"} <= kinds


@pytest.mark.parametrize("seed", [4, 5])
def test_same_result_as_the_reference_algorithms(seed: int) -> None:
    inputs = synthetic_inputs(300, seed=seed)
    new = compute_standup(inputs, stale_days=3, due_soon_days=2)
    assert new.model_dump_json() == reference_standup(inputs).model_dump_json()


class _CountingChanges(list[Change]):
    """A list of changes that counts how often it is iterated."""

    passes = 0

    def __iter__(self) -> Iterator[Change]:
        self.passes += 1
        return super().__iter__()


def test_blockers_pass_over_the_changes_a_fixed_number_of_times() -> None:
    """Before: once per started task (tasks × changes); now a constant number of passes."""
    inputs = synthetic_inputs(600, seed=6)
    st = compute_standup(inputs, stale_days=3, due_soon_days=2)
    started = sum(1 for t in inputs.tasks if t.started)
    changes = _CountingChanges(st.changes)
    found = find_blockers(inputs.tasks, changes, inputs.now.date(), stale_days=3)
    assert [b.model_dump() for b in found] == [b.model_dump() for b in st.blockers]
    assert started > 100 and changes.passes <= 2


def test_workloads_read_each_task_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: each person's workload scanned every task (people × tasks)."""
    seen: list[int] = []
    original = capacity.workload

    def counting(person: str, cap: float, tasks: object, **kw: object) -> capacity.Workload:
        rows = list(tasks)  # type: ignore[call-overload]
        seen.append(len(rows))
        return original(person, cap, rows, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(capacity, "workload", counting)
    inputs = synthetic_inputs(600, seed=6)
    compute_standup(inputs, stale_days=3, due_soon_days=2)
    assert len(seen) > 10 and sum(seen) <= len(inputs.tasks)
