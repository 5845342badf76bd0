"""Issue 22: portfolio health scores comment sentiment with the configured trained engine when it
loads, else the lexicon, in one batch per sprint, and names the engine in its report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agents.health import health_specialist
from agents.health.inputs import sprint_facts
from agents.proposal import Proposal
from graphs.registry import SpecialistRegistry
from graphs.runner import start_run
from service.runtime import open_runtime
from service.settings import load_settings
from tools.asana.models import Project, Story, Task
from tools.sentiment import LexiconSentiment
from tools.sentiment.engine import MODEL_ENV, TrainedEngine
from tools.sentiment.model import SentimentScore
from tools.sentiment.trained import TrainedSentiment

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL", MODEL_ENV):
        monkeypatch.delenv(var, raising=False)


def _health(tmp_path: Path) -> Proposal:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([health_specialist()])) as rt:
        ctx = rt.context(actor="agent:health", now=lambda: NOW)
        out = start_run(rt.graph, ctx, "hs-1", {"agent": "health", "args": {}, "trigger": "cli"})
        assert out.status == "done" and out.report is not None, out.report
        record = rt.repo.get_proposal(out.report["proposal_id"])
        assert record is not None
        return record.proposal


def test_health_names_the_trained_engine_and_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["Thanks a lot, great work!", "Sorry, my mistake", "Patch attached"] * 4
    labels = ["positive", "negative", "neutral"] * 4
    path = tmp_path / "engine.pkl"
    TrainedEngine(TrainedSentiment().fit(texts, labels)).save(path)
    monkeypatch.setenv(MODEL_ENV, str(path))
    trained = _health(tmp_path / "a")
    assert trained.evidence["sentiment_engine"] == {"name": "trained:tfidf+lexicon", "warning": None}
    assert "comment sentiment: trained:tfidf+lexicon engine" in trained.summary_markdown

    path.write_bytes(b"damaged")
    fallback = _health(tmp_path / "b")
    used = fallback.evidence["sentiment_engine"]
    assert used["name"] == "lexicon" and str(path) in used["warning"]
    assert "comment sentiment: lexicon engine" in fallback.summary_markdown
    assert f"Note: sentiment model {path} not used" in fallback.summary_markdown


def test_sprint_comments_are_scored_in_one_batch() -> None:
    batches: list[list[str]] = []

    class Recording(LexiconSentiment):
        def analyse_many(self, texts: Sequence[str]) -> list[SentimentScore]:
            batches.append(list(texts))
            return super().analyse_many(texts)

    def comment(gid: str, text: str, hour: int) -> Story:
        at = datetime(2026, 11, 10, hour, tzinfo=UTC)
        return Story.model_validate(
            {"gid": gid, "resource_subtype": "comment_added", "text": text, "created_at": at}
        )

    tasks = [Task(gid="t1", name="A"), Task(gid="t2", name="B")]
    stories: dict[str, list[Any]] = {
        "t1": [comment("s2", "Sorry, my mistake", 11), comment("s1", "Thanks a lot!", 9)],
        "t2": [comment("s3", "Patch attached", 10)],
    }
    facts = sprint_facts(Project(gid="p", name="Sprint 1"), tasks, stories, Recording())
    assert batches == [["Thanks a lot!", "Sorry, my mistake", "Patch attached"]]
    assert facts.sentiment == [1.0, -1.0, 0.0]
