"""The seam for a language-model estimate: retrieval-augmented few-shot over the offline neighbours.

No model is called here. A caller with a configured LLM passes a :data:`Refiner` to
``StoryPointEstimator.estimate(..., refine=...)``; it receives the neighbours (the team's most similar
completed tasks, as few-shot examples — :func:`fewshot_examples` formats them) and returns points or None.
:func:`combine` then merges that answer with the offline estimate.
"""

from __future__ import annotations

from collections.abc import Sequence

from tools.estimation.models import Estimate, Neighbour

# The offline estimate is the better-validated one; the LLM answer moves it only part of the way.
LLM_WEIGHT = 0.5


def fewshot_examples(neighbours: Sequence[Neighbour]) -> list[dict[str, object]]:
    """Neighbours as plain examples for a prompt (title and points only: descriptions are untrusted)."""
    return [{"title": n.title, "points": n.points, "similarity": round(n.similarity, 3)} for n in neighbours]


def combine(offline: Estimate, llm_points: float | None, weight: float = LLM_WEIGHT) -> Estimate:
    """Blend an LLM answer into the offline estimate, keeping it inside the team's scale and range."""
    if llm_points is None or llm_points < 0:
        return offline
    blended = (1 - weight) * offline.raw + weight * float(llm_points)
    scale = sorted({offline.low, offline.high, offline.points} | {n.points for n in offline.neighbours})
    points = min(scale, key=lambda v: (abs(v - blended), v))
    return offline.model_copy(
        update={
            "points": points,
            "raw": blended,
            "low": min(offline.low, points),
            "high": max(offline.high, points),
            "method": offline.method + f" + LLM few-shot (weight {weight:.2f})",
        }
    )
