"""Fixtures for the app-DB tests: every backend-agnostic test runs on SQLite and real Postgres.

Builders are exposed as fixtures because test modules cannot import each other under
`--import-mode=importlib`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text

from agents.proposal import Action, ActionKind, Proposal, Scope
from graphs.ports import AuditRecord
from service.db import make_engine, migrate


def record(i: int = 0, **overrides: object) -> AuditRecord:
    fields: dict[str, object] = {
        "actor": "agent:planner",
        "event": "action.applied",
        "outcome": "ok",
        "thread_id": "t-1",
        "proposal_id": "p-1",
        "action_index": i,
        "target": f"12{i:04d}",
        "before": {"due_on": "2026-01-01", "n": i},
        "after": {"due_on": "2026-01-02", "ratio": 0.1 * i},
        "reason": f"row {i}",
        "model": "offline",
        "details": {"i": i, "note": "ünïcode ✓"},
    }
    fields.update(overrides)
    return AuditRecord.model_validate(fields)


def proposal(n_actions: int = 2, **overrides: object) -> Proposal:
    actions = [
        Action(kind=ActionKind.UPDATE_TASK, target=f"100{i}", params={"due_on": "2026-02-0" + str(i + 1)})
        for i in range(n_actions)
    ]
    data: dict[str, object] = {
        "agent": "planner",
        "scope": Scope(workspace_gid="1", project_gids=["2"]),
        "title": "Sprint 24 plan",
        "summary_markdown": "**plan**",
        "evidence": {"velocity": 31.5},
        "actions": actions,
    }
    data.update(overrides)
    return Proposal.model_validate(data)


@contextmanager
def tamper(engine: Engine) -> Iterator[Connection]:
    """A connection on which the append-only triggers are off, as a DBA with superuser could do."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            try:
                yield conn
                conn.commit()
            finally:
                conn.rollback()
                conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
                conn.commit()
        else:
            # Edit the SQLite file directly, triggers dropped (and recreated afterwards).
            trig = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_log'")
            ).all()
            for name, _ in trig:
                conn.execute(text(f"DROP TRIGGER {name}"))
            try:
                yield conn
                conn.commit()
            finally:
                conn.rollback()
                for _, sql in trig:
                    conn.execute(text(sql))
                conn.commit()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    migrate(db_url)
    eng = make_engine(db_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def make_record() -> Callable[..., AuditRecord]:
    return record


@pytest.fixture
def make_proposal() -> Callable[..., Proposal]:
    return proposal


@pytest.fixture
def tampering() -> Callable[[Engine], AbstractContextManager[Connection]]:
    return tamper
