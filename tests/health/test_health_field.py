"""The per-project Health field: proposed by the health agent, auto class, applied idempotently
through supervisor → policy → publish → apply against the embedded sandbox."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agents.health import health_specialist
from graphs.registry import SpecialistRegistry
from graphs.runner import start_run
from service.runtime import Runtime, open_runtime
from service.settings import load_settings

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([health_specialist()])) as r:
        yield r


def _run(rt: Runtime, thread: str, **args: Any) -> Any:
    ctx = rt.context(actor="agent:health", now=lambda: NOW)
    return start_run(rt.graph, ctx, thread, {"agent": "health", "args": args, "trigger": "cli"})


def _mutations(rt: Runtime) -> Counter[str]:
    assert rt.sandbox is not None
    return Counter(rt.sandbox.store.stats.snapshot()["mutating"])


def _portfolio(rt: Runtime) -> Any:
    assert rt.sandbox is not None
    return next(p for p in rt.sandbox.store.portfolios.values() if p.name == "Mobile Portfolio")


def _health_values(rt: Runtime) -> dict[str, Any]:
    items = rt.asana.portfolio_items_with_fields(_portfolio(rt).gid)
    return {p.name or p.gid: p.field("Health") for p in items}


def test_every_project_gets_its_health_value_automatically(rt: Runtime) -> None:
    out = _run(rt, "hf-1")
    assert out.status == "done", out.report
    assert out.report["status"] == "applied", out.report
    values = _health_values(rt)
    assert set(values) == {"Product Backlog", *(f"Sprint {n}" for n in range(18, 24))}
    assert all(isinstance(v, float | int) and 0 <= v <= 100 for v in values.values()), values
    # The current sprint and the backlog carry the team's current score, shown in the status update.
    record = rt.repo.get_proposal(out.report["proposal_id"])
    assert record is not None
    proposal = record.proposal
    current = proposal.evidence["health"]["score"]
    assert values["Sprint 23"] == pytest.approx(current) and values["Product Backlog"] == pytest.approx(
        current
    )
    history = dict(proposal.evidence["trend"]["history"])
    assert values["Sprint 20"] == pytest.approx(history["Sprint 20"])
    kinds = [a.kind.value for a in proposal.actions]
    assert kinds.count("set_project_custom_field") == 7
    assert {a.approval_class and a.approval_class.value for a in proposal.actions} == {
        "auto"
    }  # nothing waits for a human
    assert _mutations(rt)["PUT /projects/{project_gid}"] == 7
    assert "Per-project 'Health' field set on 7 project(s)" in proposal.summary_markdown


def test_rerun_writes_no_value_twice_and_a_human_edit_is_a_conflict(rt: Runtime) -> None:
    assert _run(rt, "hf-a").status == "done"
    first = _health_values(rt)
    puts = _mutations(rt)["PUT /projects/{project_gid}"]
    # Nothing changed in the sprints: the second run proposes no value (it applied, read back and
    # audited each one as "already up to date", and reported "applied": noise).
    out = _run(rt, "hf-b")
    assert out.report["status"] == "empty", out.report
    assert _mutations(rt)["PUT /projects/{project_gid}"] == puts
    assert _health_values(rt) == first

    # A human sets the backlog's Health between proposal and apply: the stale check refuses to
    # overwrite it. Simulated by proposing, then editing the value, then applying (one graph step).
    assert rt.sandbox is not None
    store = rt.sandbox.store
    backlog = next(p for p in store.projects.values() if p.name == "Product Backlog")
    health_gid = next(g for g, cf in store.custom_fields.items() if cf.name == "Health")
    original = rt.asana.project_with_fields

    def edited_before_read(gid: str) -> Any:
        if gid == backlog.gid:
            backlog.custom_fields[health_gid] = 12.0  # the PM's own assessment
        return original(gid)

    rt.asana.project_with_fields = edited_before_read  # type: ignore[method-assign]
    store.projects[backlog.gid].custom_fields[health_gid] = 55.5  # differs from the agent's value
    try:
        out = _run(rt, "hf-c")
    finally:
        rt.asana.project_with_fields = original  # type: ignore[method-assign]
    # Only the value that differs is proposed now, and it conflicts: nothing else to apply.
    assert out.report["status"] == "failed", out.report
    conflicts = out.report["conflicts"]
    assert [c["field"] for c in conflicts] == ["Health"] and conflicts[0]["now"] == 12
    assert store.projects[backlog.gid].custom_fields[health_gid] == 12.0  # not overwritten


def test_missing_field_is_reported_not_a_crash(rt: Runtime) -> None:
    assert rt.sandbox is not None
    portfolio = _portfolio(rt)
    for setting in list(portfolio.custom_field_settings):
        portfolio.custom_field_settings.remove(setting)
    out = _run(rt, "hf-missing")
    assert out.status == "done" and out.report["status"] == "applied", out.report
    markdown = out.report["markdown"]
    assert "no custom field named 'Health'" in markdown  # the run's own output says why
    assert _mutations(rt)["PUT /projects/{project_gid}"] == 0
    assert _mutations(rt)["POST /status_updates"] == 2  # the report itself is still posted


def test_an_unknown_portfolio_name_suggests_close_ones(rt: Runtime) -> None:
    from agents.health.inputs import find_portfolio

    with pytest.raises(ValueError, match="close names: 'Mobile Portfolio'"):
        find_portfolio(rt.asana, rt.resolve_workspace(), "Mobile")
