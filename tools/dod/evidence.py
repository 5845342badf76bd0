"""Which evidence addresses which acceptance criterion: TF-IDF cosine against a threshold.

Evidence items are the task's *completed* subtasks (an open subtask is work not yet done), its
human comments (sprintpilot's own comments quote the criteria and never count) and its
attachments' names. A criterion is addressed when its best-matching item scores at least the
threshold; all scores are kept so a finding can say how close the nearest item came.
"""

from __future__ import annotations

from collections.abc import Sequence

from tools.dod.config import EvidenceSource
from tools.dod.models import CriterionResult, EvidenceKind, EvidenceMatch, TaskSnapshot
from tools.dod.text import cosine, tfidf_vectors

MAX_MATCHES_KEPT = 3


def evidence_items(
    snapshot: TaskSnapshot, sources: Sequence[EvidenceSource]
) -> list[tuple[EvidenceKind, str, str]]:
    """(kind, gid, text) for every item the configured sources allow."""
    items: list[tuple[EvidenceKind, str, str]] = []
    if "subtasks" in sources:
        items += [("subtask", s.gid, s.name) for s in snapshot.subtasks if s.completed and s.name.strip()]
    if "comments" in sources:
        items += [("comment", c.gid, c.text) for c in snapshot.human_comments if c.text.strip()]
    if "attachments" in sources:
        items += [("attachment", a.gid, a.name) for a in snapshot.attachments if a.name.strip()]
    return items


def match_criteria(
    criteria: Sequence[str], items: Sequence[tuple[EvidenceKind, str, str]], threshold: float
) -> list[CriterionResult]:
    if not criteria:
        return []
    vectors = tfidf_vectors([*criteria, *(text for _, _, text in items)])
    crit_vecs, item_vecs = vectors[: len(criteria)], vectors[len(criteria) :]
    results = []
    for text, cv in zip(criteria, crit_vecs, strict=True):
        scored = [
            EvidenceMatch(kind=kind, gid=gid, text=item_text, score=round(cosine(cv, iv), 4))
            for (kind, gid, item_text), iv in zip(items, item_vecs, strict=True)
        ]
        # Highest score first; ties keep the stable order subtasks → comments → attachments.
        scored.sort(key=lambda m: -m.score)
        best = scored[0].score if scored else 0.0
        results.append(
            CriterionResult(
                text=text,
                addressed=best >= threshold,
                best_score=best,
                evidence=[m for m in scored[:MAX_MATCHES_KEPT] if m.score > 0],
            )
        )
    return results
