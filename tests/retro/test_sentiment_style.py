"""Issue 22: stretched words in the lexicon, typographic style cues and the variant names of the
trained sentiment classifier."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.sentiment import SELECTED, STYLE_WEIGHT, make_model, variants_to_run
from tools.sentiment.engine import TrainedEngine, engine_choice
from tools.sentiment.model import LexiconSentiment
from tools.sentiment.style import STYLE_FEATURES, style_features, style_row
from tools.sentiment.trained import TrainedSentiment

TEXTS = [
    "thanks, great work!", "awesome :) love it", "nice job, thank you", "works now, cheers",
    "this sucks, damn", "sorry, my bad", "ugh, broken again?!", "what the hell happened",
    "patch attached", "see the log", "updated the docs", "moved to trunk",
] * 3  # fmt: skip
LABELS = (["positive"] * 4 + ["negative"] * 4 + ["neutral"] * 4) * 3


def test_a_stretched_word_reads_as_the_lexicon_spells_it() -> None:
    lex = LexiconSentiment()
    assert lex.analyse("thaaaanks").label == "positive" and lex.analyse("thaaaanks").hits == ["thanks"]
    assert lex.analyse("cooool").hits == ["cool"]  # two letters where the word has two
    assert lex.analyse("grrrrr").hits == ["grr"]
    assert lex.analyse("soooo good").score == lex.analyse("so good").score  # intensifiers too
    assert lex.analyse("zzzz aaa").hits == [] and lex.analyse("zzzz").label == "neutral"


def test_style_cues() -> None:
    assert style_row("Great!!!! :)") == [1.0, 0.0, 0.0, pytest.approx(1 / 5), 0.0, 1.0]
    assert style_row("why? really??") == [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert style_row("hmm... \U0001f389") == [0.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    assert style_row("") == [0.0] * STYLE_FEATURES
    # A URL's ":/" and code's "=(" are not emoticons.
    assert style_row("see https://example.com/x")[5] == 0.0
    assert style_row("if (a=(b)) then")[5] == 0.0


def test_stacking_is_left_out_when_a_label_has_a_single_example() -> None:
    model = make_model("deva", "tfidf+lexicon+stack")
    labels = ["positive", "positive", "negative", "negative", "neutral"]
    model.fit(["good work", "great job", "this is broken", "awful crash", "meh"], labels)
    assert model.meta is None  # StratifiedKFold needs two examples of each label
    assert len(model.predict(["good job"])) == 1
    assert style_features(["a", "B!"]).shape == (2, STYLE_FEATURES)
    assert style_features([]).shape == (0, STYLE_FEATURES)


def test_style_adds_its_columns_and_names_the_variant() -> None:
    plain = TrainedSentiment().fit(TEXTS, LABELS)
    styled = TrainedSentiment(style=0.5).fit(TEXTS, LABELS)
    assert styled.name == "tfidf+lexicon+style" and plain.name == "tfidf+lexicon"
    extra = styled._features(TEXTS[:2], fit=False).shape[1] - plain._features(TEXTS[:2], fit=False).shape[1]
    assert extra == STYLE_FEATURES
    assert styled.predict(["great, thanks!!", "damn, sorry"]) == ["positive", "negative"]


def test_an_engine_saved_before_the_style_setting_still_predicts() -> None:
    model = TrainedSentiment().fit(TEXTS, LABELS)
    del model.__dict__["style"]  # what unpickling a model saved by the former code gives
    assert model.name == "tfidf+lexicon"
    assert model.predict(["thanks a lot!"]) == ["positive"]


def test_make_model_reads_the_variant_name() -> None:
    polarity = make_model("polarity", SELECTED["polarity"])
    assert polarity.name == "tfidf+lexicon+style+minilm+knn+mid+lr" and polarity.style == STYLE_WEIGHT
    assert polarity.neighbours > 0 and polarity.embeddings
    assert make_model("deva", "tfidf+lexicon+style").style == STYLE_WEIGHT
    for bad in ("tfidf+lexicon+minilm+style", "tfidf+style", "bert"):
        with pytest.raises(ValueError, match="unknown sentiment variant"):
            make_model("polarity", bad)


def test_the_eval_runs_the_selected_variant_only_where_it_can() -> None:
    assert variants_to_run("polarity", embeddings=False) == ["tfidf+lexicon"]
    with_vectors = variants_to_run("polarity", embeddings=True)
    assert with_vectors[-1] == SELECTED["polarity"] and len(with_vectors) == len(set(with_vectors)) == 6
    assert variants_to_run("deva", embeddings=True)[0] == "tfidf+lexicon"


def test_stacking_fits_its_layer_on_out_of_fold_decisions() -> None:
    stacked = make_model("deva", "tfidf+lexicon+stack", seed=3).fit(TEXTS, LABELS)
    assert stacked.name == "tfidf+lexicon+stack" and stacked.meta is not None
    assert list(stacked.meta.classes_) == ["negative", "neutral", "positive"]
    assert stacked.decision(TEXTS[:2]).shape == (2, 3)
    assert stacked.predict(["great work, thanks!", "damn, this sucks", "patch attached"]) == [
        "positive", "negative", "neutral"
    ]  # fmt: skip
    two = TrainedSentiment(stacked=True).fit(TEXTS[:8], LABELS[:8])  # two labels: one SVM column
    assert two.decision(["thanks"]).shape == (1, 2)
    assert two.predict(["thanks, great!", "sorry, damn"]) == ["positive", "negative"]


def test_retro_and_health_load_a_saved_engine_with_style_cues(tmp_path: Path) -> None:
    path = tmp_path / "engine.pkl"
    TrainedEngine(make_model("polarity", "tfidf+lexicon+style").fit(TEXTS, LABELS)).save(path)
    choice = engine_choice(path)
    assert choice.name == "trained:tfidf+lexicon+style" and choice.warning is None
    scored = choice.engine.analyse_many(["thanks!!", "ugh, damn"])
    assert [s.label for s in scored] == ["positive", "negative"]
