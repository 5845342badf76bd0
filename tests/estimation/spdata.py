"""Tiny story-point datasets in the native Deep-SE / Tawosi formats, written into a temp dir."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from tools.estimation import PastTask

# Each topic has its own vocabulary and a typical size: a clear text -> points signal.
TOPICS: dict[str, tuple[float, list[str]]] = {
    "typo": (1, ["typo", "label", "spelling", "wording", "tooltip", "copy"]),
    "bug": (3, ["crash", "null", "exception", "stacktrace", "regression", "fails"]),
    "feature": (8, ["feature", "workflow", "wizard", "integration", "redesign", "module"]),
    "epic": (13, ["migration", "architecture", "rewrite", "distributed", "cluster", "sharding"]),
}
FILLER = ["the", "user", "should", "when", "page", "we", "need", "to", "see", "it"]


def synthetic_tasks(n: int, seed: int, prefix: str = "T") -> list[PastTask]:
    rng = random.Random(seed)
    names = sorted(TOPICS)
    out = []
    for i in range(n):
        topic = names[rng.randrange(len(names))]
        points, vocab = TOPICS[topic]
        title = " ".join(rng.choices(vocab, k=3) + rng.choices(FILLER, k=2))
        body = " ".join(rng.choices(vocab, k=5) + rng.choices(FILLER, k=8))
        # a little label noise, as in real data
        if rng.random() < 0.1:
            points = rng.choice([1, 2, 3, 5, 8, 13])
        out.append(PastTask(id=f"{prefix}-{i}", title=title, description=body, points=points))
    return out


def write_deepse(root: Path, name: str, tasks: list[PastTask], splits: list[str]) -> None:
    folder = root / "deepse"
    (folder / "original_splits").mkdir(parents=True, exist_ok=True)
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["issuekey", "title", "description", "storypoint"])
        for t in tasks:
            w.writerow([t.id, t.title, t.description or "NULL", int(t.points)])
    with (folder / "original_splits" / f"{name}_3sets.txt").open("w", encoding="utf-8") as fh:
        fh.write("train\tvalid\ttest\n")
        for s in splits:
            fh.write("\t".join("1" if s == c else "0" for c in ("train", "valid", "test")) + "\n")


def write_tawosi(root: Path, key: str, tasks: list[PastTask]) -> None:
    folder = root / "tawosi2022"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{key}_deep-se.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL)
        w.writerow(["issuekey", "created", "title", "description", "storypoint"])
        for n, t in enumerate(tasks):
            w.writerow([t.id, f"01/{1 + n % 28:02d}/2019 10:00:00", t.title, t.description, t.points])


def write_anchors(root: Path, deepse: list[str], tawosi: list[str]) -> None:
    with (root / "anchors_deepse16_within_project.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "project",
                "display_name",
                "repository",
                "key",
                "n_issues",
                "n_test_gpt2sp_split",
                "location",
                "deepse_mae_original_paper",
                "mean_mae_original_paper",
                "median_mae_original_paper",
                "deepse_sa_original_paper",
                "random_guess_mae_implied_original",
                "deepse_mae_replicated_tawosi2022",
                "gpt2sp_mae_corrected",
                "gpt2sp_mdae_corrected",
                "gpt2sp_sa_corrected",
                "mean_baseline_mae",
                "median_baseline_mae",
                "best_of_4_replicated",
            ]
        )
        for name in deepse:
            w.writerow([name, name.title(), "Synth", name.upper(), 100, 20, "shared", 2.5, 3, 3.1, 40, 4.2,
                        2.6, 2.7, 2.0, 35, 3.2, 3.1, "Median"])  # fmt: skip
    with (root / "anchors_tawosi2022_extra_projects.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["key", "n_issues", "deepse_mae", "tfidf_svm_mae", "mean_baseline_mae", "median_baseline_mae"]
        )
        for key in tawosi:
            w.writerow([key, 100, 2.9, "", 3.3, 3.1])


def deepse_splits(n: int) -> list[str]:
    n_train, n_valid = int(0.6 * n), int(0.2 * n)
    return ["train"] * n_train + ["valid"] * n_valid + ["test"] * (n - n_train - n_valid)


def write_dataset(base: Path, *, nested: bool = False, n: int = 100) -> Path:
    """A datasets root (nested=True: <base>/storypoints/...) with one Deep-SE and one Tawosi project."""
    root = base / "storypoints" if nested else base
    root.mkdir(parents=True, exist_ok=True)
    write_deepse(root, "alpha", synthetic_tasks(n, 1, "ALPHA"), deepse_splits(n))
    write_tawosi(root, "BETA", synthetic_tasks(n, 2, "BETA"))
    write_anchors(root, ["alpha"], ["BETA"])
    return base
