from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agents.dependencies import dependencies_specialist
from agents.planner import planner_specialist
from agents.qa import qa_specialist
from agents.standup import standup_specialist
from graphs.registry import SpecialistRegistry
from service.runtime import Runtime, open_runtime
from service.settings import Settings, load_settings

sys.path.insert(0, str(Path(__file__).parent))  # fake_model, also for subprocesses


def chat_registry() -> SpecialistRegistry:
    return SpecialistRegistry(
        [planner_specialist(), standup_specialist(), dependencies_specialist(), qa_specialist()]
    )


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "SPRINTPILOT_ASANA_BASE_URL",
        "SPRINTPILOT_DATABASE_URL",
        "SPRINTPILOT_MODEL",
        "SPRINTPILOT_APPROVER",
        "SPRINTPILOT_CHAT_APPROVERS",
        "SPRINTPILOT_CHAT_UI_USER",
    ):
        monkeypatch.delenv(var, raising=False)


# Asana users of the seeded sandbox: the scrum master (the chats' approver) and an engineer.
PRIYA = "priya.brooks@acme.example"
RAVI = "ravi.rossi@acme.example"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path, asana_base_url=None, model="offline", approvers=[PRIYA])


# The last day of the seeded Sprint 23 (2026-11-09 → 2026-11-20): the stand-up's sprint is active
# and the retro's has ended, whatever the real date is.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def on_sprint_23s_last_day(runtime: Runtime) -> Runtime:
    """Every run context of `runtime` reads the clock as NOW (the chat builds its own contexts)."""
    context = runtime.context

    def pinned(**kw: Any) -> Any:
        return context(**{"now": lambda: NOW, **kw})

    runtime.context = pinned  # type: ignore[method-assign]
    return runtime


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    with open_runtime(settings, registry=chat_registry()) as runtime:
        yield on_sprint_23s_last_day(runtime)
