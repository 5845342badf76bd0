"""A runtime over the embedded sandbox (SQLite) with the planner and the stand-up registered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agents.planner import planner_specialist
from agents.standup import standup_specialist
from graphs.context import RunContext
from graphs.registry import SpecialistRegistry
from service.runtime import Runtime, open_runtime
from service.settings import load_settings

# Inside Sprint 23 (2026-11-09 → 2026-11-20) of the generated workspace.
NOW = datetime(2026, 11, 19, 17, 0, tzinfo=UTC)


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(
        settings, registry=SpecialistRegistry([planner_specialist(), standup_specialist()])
    ) as r:
        yield r


def standup_ctx(rt: Runtime, now: datetime = NOW) -> RunContext:
    return rt.context(actor="agent:standup", now=lambda: now)
