"""Issue 22: retro and health score comments with the configured trained engine when it loads,
else with the lexicon, name the engine in their output, and survive a missing or damaged model
file with one warning."""

from __future__ import annotations

import logging
import pickle
import uuid
from pathlib import Path

import pytest

from agents.proposal import Proposal
from agents.retro import retro_specialist
from agents.retro.analysis import analyse
from evals.bench_retro import synthetic_inputs
from graphs.registry import SpecialistRegistry
from graphs.runner import start_run
from service.approvals import find_proposal
from service.runtime import open_runtime
from service.settings import load_settings
from tools.retro.scoring import CachedSentiment
from tools.sentiment import LexiconSentiment
from tools.sentiment.engine import MODEL_ENV, TrainedEngine, engine_choice
from tools.sentiment.trained import TrainedSentiment

POS = ["Thanks a lot, great work!", "Looks good, thanks", "Nice patch :)", "Cool, works fine now thanks"]
NEG = ["Sorry, my mistake", "Damn, this sucks", "Oops, wrong file, sorry", "What the hell is this mess"]
NEU = ["Patch attached", "Committed revision 12345", "See HADOOP-1234", "Which version are you using?"]


def _engine() -> TrainedEngine:
    texts = POS * 3 + NEG * 3 + NEU * 3
    labels = ["positive"] * 12 + ["negative"] * 12 + ["neutral"] * 12
    return TrainedEngine(TrainedSentiment().fit(texts, labels))


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "engine.pkl"
    _engine().save(path)
    return path


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SPRINTPILOT_ASANA_BASE_URL", "SPRINTPILOT_DATABASE_URL", "SPRINTPILOT_MODEL", MODEL_ENV):
        monkeypatch.delenv(var, raising=False)


def test_no_model_configured_is_the_lexicon_without_warning() -> None:
    choice = engine_choice()
    assert type(choice.engine) is LexiconSentiment and choice.name == "lexicon" and choice.warning is None


def test_a_configured_model_that_loads_is_used(saved: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MODEL_ENV, str(saved))
    choice = engine_choice()
    assert isinstance(choice.engine, TrainedEngine)
    assert choice.name == "trained:tfidf+lexicon" and choice.warning is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "file not found"),
        (b"\x00not a pickle at all", "UnpicklingError"),
        (pickle.dumps({"not": "an engine"}), "TypeError"),
        (b"", "EOFError"),
    ],
)
def test_missing_or_damaged_model_warns_once_and_falls_back(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    content: bytes | None,
    reason: str,
) -> None:
    path = tmp_path / f"model-{uuid.uuid4().hex}.pkl"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv(MODEL_ENV, str(path))
    with caplog.at_level(logging.WARNING, logger="tools.sentiment.engine"):
        first, second = engine_choice(), engine_choice()
    assert first.name == second.name == "lexicon"
    assert first.warning is not None and str(path) in first.warning and reason in first.warning
    warnings = [r for r in caplog.records if str(path) in r.getMessage()]
    assert len(warnings) == 1  # once per file and process, not once per retro


def test_a_model_that_fails_on_use_is_caught_at_load(saved: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model pickled against other library versions (or needing absent MiniLM weights) loads but
    fails when scoring; the load scores one text so that shows up here, not mid-retro."""

    def broken(self: TrainedSentiment, texts: object, lexicon: object = None) -> list[str]:
        raise AttributeError("'LinearSVC' object has no attribute 'coef_'")

    monkeypatch.setattr(TrainedSentiment, "predict", broken)
    choice = engine_choice(saved)
    assert choice.name == "lexicon" and choice.warning and "AttributeError" in choice.warning


def test_retro_scores_every_text_in_one_batch_and_names_the_trained_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = _engine()
    batches: list[int] = []
    original = TrainedEngine.analyse_many

    def counting(self: TrainedEngine, texts: list[str]) -> list[object]:
        batches.append(len(texts))
        return original(self, texts)  # type: ignore[return-value]

    monkeypatch.setattr(TrainedEngine, "analyse_many", counting)
    inputs = synthetic_inputs(80, seed=3)
    a = analyse(inputs, engine)
    comments = {c.text for i in inputs.items for c in i.comments}
    assert len(batches) == 1 and batches[0] >= len(comments)  # one call for the whole retro
    assert a.mood.engine == "trained:tfidf+lexicon"
    lexicon = analyse(inputs)
    assert lexicon.mood.engine == "lexicon"
    # The trained labels, not the lexicon's, make the mood's counts.
    labels = engine.analyse_many(sorted(comments))
    by_text = dict(zip(sorted(comments), labels, strict=True))
    every = [by_text[c.text].label for i in inputs.items for c in i.comments]
    assert (a.mood.positive, a.mood.negative) == (every.count("positive"), every.count("negative"))


def test_cached_sentiment_primes_a_batch_once() -> None:
    calls: list[list[str]] = []

    class Recording(LexiconSentiment):
        name = "recording"

        def analyse_many(self, texts: object) -> list[object]:  # type: ignore[override]
            calls.append(list(texts))  # type: ignore[call-overload]
            return super().analyse_many(list(texts))  # type: ignore[call-overload, return-value]

    cached = CachedSentiment(Recording())
    cached.prime(["a thanks", "b sorry", "a thanks"])
    cached.prime(["b sorry", "c ok"])
    assert calls == [["a thanks", "b sorry"], ["c ok"]] and cached.name == "recording"
    assert cached.analyse("b sorry").label == "negative"


def _retro_proposal(tmp_path: Path) -> Proposal:
    settings = load_settings(data_dir=tmp_path, asana_base_url=None, model="offline")
    with open_runtime(settings, registry=SpecialistRegistry([retro_specialist()])) as rt:
        ws = rt.allowed_workspaces()[0]
        ctx = rt.context(actor="agent:retro", approver_gid=rt.approver_for(ws, "Product Backlog"))
        out = start_run(rt.graph, ctx, uuid.uuid4().hex, {"agent": "retro", "args": {"project": "Sprint 23"}})
        assert out.interrupt is not None, out.report
        return find_proposal(rt, out.interrupt["proposal_id"]).proposal


def test_retro_output_names_the_engine_and_the_fallback(
    tmp_path: Path, saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MODEL_ENV, str(saved))
    trained = _retro_proposal(tmp_path / "a")
    assert trained.evidence["sentiment_engine"] == {"name": "trained:tfidf+lexicon", "warning": None}
    assert "Comment sentiment (trained:tfidf+lexicon engine)" in trained.summary_markdown

    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "gone.pkl"))
    fallback = _retro_proposal(tmp_path / "b")
    used = fallback.evidence["sentiment_engine"]
    assert used["name"] == "lexicon" and "gone.pkl" in used["warning"]
    assert fallback.evidence["mood"]["engine"] == "lexicon"
    notes = fallback.summary_markdown
    assert "Comment sentiment (lexicon engine)" in notes and "gone.pkl not used (file not found)" in notes


def test_retro_and_health_leave_a_saved_emotion_model_out(tmp_path: Path) -> None:
    """They read labels and scores only; the emotion model would double the scoring time."""
    texts = POS * 3 + NEG * 3 + NEU * 3
    labels = ["positive"] * 12 + ["negative"] * 12 + ["neutral"] * 12
    emotions = ["Excited"] * 12 + ["Stress"] * 12 + ["Neutral"] * 12
    full = TrainedEngine(TrainedSentiment().fit(texts, labels), TrainedSentiment().fit(texts, emotions))
    path = tmp_path / "full.pkl"
    full.save(path)
    product, complete = engine_choice(path).engine, engine_choice(path, emotions=True).engine
    assert isinstance(product, TrainedEngine) and product.emotion is None
    assert isinstance(complete, TrainedEngine) and complete.emotion is not None
    assert product.name == complete.name == "trained:tfidf+lexicon"
    sample = ["Thanks, looks good", "Damn, wrong file", "Patch attached"]
    assert [s.label for s in product.analyse_many(sample)] == [s.label for s in complete.analyse_many(sample)]
