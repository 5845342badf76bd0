"""The offline sentiment engine's rules, the trained classifier, and the eval on a tiny folder."""

from __future__ import annotations

from pathlib import Path

from evals.sentiment import run_sentiment_eval
from tools.sentiment import LexiconSentiment
from tools.sentiment.trained import TrainedSentiment


def test_lexicon_rules() -> None:
    lex = LexiconSentiment()
    assert lex.analyse("Committed, thanks Ann!").label == "positive"
    assert lex.analyse("Sorry, my bad - wrong patch").label == "negative"
    assert lex.analyse("Patch attached, revision r123456").label == "neutral"
    assert lex.analyse("This is not great").label == "negative"  # negation flips
    assert lex.analyse("really great").score > lex.analyse("great").score  # intensifier
    assert lex.analyse("Damn it, this sucks!!").emotion == "Stress"
    assert lex.analyse("Unfortunately it still fails").emotion == "Depression"


def test_trained_classifier_learns_team_labels() -> None:
    texts = ["ship it", "ship it now", "please ship it", "hold it", "hold it back", "please hold it"] * 3
    labels = ["go", "go", "go", "stop", "stop", "stop"] * 3
    model = TrainedSentiment().fit(texts, labels)
    assert model.predict(["ship it today", "hold it today"]) == ["go", "stop"]


def test_eval_reports_zero_shot_and_cross_validated_scores(tmp_path: Path) -> None:
    pos = ["Thanks a lot, great work!", "Looks good, thanks", "Nice patch :)", "Cool, works fine now thanks"]
    neg = [
        "Sorry, my mistake",
        "Damn, this sucks",
        "Oops, wrong file, sorry",
        "What the hell is this stupid error",
    ]
    neu = ["Patch attached", "Committed revision 12345", "See HADOOP-1234", "Which version are you using?"]
    rows = ["id,text,label,polarity"]
    i = 0
    for texts, lab, pol in ((pos, 1, "positive"), (neg, -1, "negative"), (neu, 0, "neutral")):
        for t in texts * 2:
            i += 1
            rows.append(f'{i},"{t}",{lab},{pol}')
    (tmp_path / "jira_polarity_test.csv").write_text("\n".join(rows) + "\n")
    report = run_sentiment_eval(tmp_path)
    [task] = report.tasks
    assert task.task == "polarity" and task.zero_shot.n == 24
    assert task.zero_shot.macro_f1 > 0.9
    assert task.trained is not None and "5-fold" in task.trained_protocol
