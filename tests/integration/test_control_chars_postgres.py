"""Asana text with NUL and other control characters (a task name, its notes, a comment) must not
stop an agent on Postgres, which refuses NUL in text and `\\u0000` in JSONB: the app DB stores such
text with the character replaced by U+FFFD (issue 18, "Inputs")."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from graphs.runner import start_run
from service.db.migrate import migrate
from service.db.models import AuditRow, ProposalRow, Run
from service.runtime import open_runtime
from service.settings import Settings, load_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(tmp_path: Path, pg_url: str) -> Settings:
    s = load_settings(data_dir=tmp_path, database_url=pg_url, asana_base_url=None, model="offline")
    migrate(s)
    return s


def test_triage_of_a_task_named_with_nul_completes_on_postgres(settings: Settings) -> None:
    with open_runtime(settings) as rt:
        assert rt.sandbox is not None
        store = rt.sandbox.store
        ws = rt.allowed_workspaces()[0]
        backlog = next(p.gid for p in store.projects.values() if p.name == "Product Backlog")
        gid = store.add_task(
            ws,
            "a\x00b",
            notes="Shoppers lose\x00 their cart \x1b[31m.\n\nAcceptance criteria:\n- the cart survives\x07",
            projects=[backlog],
        ).gid
        ctx = rt.context(actor="agent:triage")
        out = start_run(rt.graph, ctx, "nul-thread", {"agent": "triage", "args": {"task": gid}})
        assert out.status in {"done", "awaiting_approval"}, out.report
        with rt.engine.connect() as conn:
            run = conn.execute(select(Run.status).where(Run.thread_id == "nul-thread")).scalar_one()
            assert run != "running"
            proposals = conn.execute(select(ProposalRow.title)).scalars().all()
            audit_reasons = conn.execute(select(AuditRow.details)).scalars().all()
        stored = repr(proposals) + repr(audit_reasons)
        assert "\x00" not in stored and "\\x00" not in stored and "\\x1b" not in stored
