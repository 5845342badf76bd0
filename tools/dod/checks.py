"""The DoD checks: each turns (snapshot, its config) into a pass/fail plus findings.

Pass/fail is decided here and only here: no model and no task text can change the outcome
other than by really satisfying an item (text in the task is matched, never obeyed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

from tools.dod.config import (
    AcceptanceCriteria,
    Attachments,
    DodConfig,
    Links,
    RequiredFields,
    SubtasksComplete,
)
from tools.dod.evidence import evidence_items, match_criteria
from tools.dod.models import CheckResult, CriterionResult, DodReport, Finding, TaskSnapshot
from tools.refinement.criteria import extract_criteria

QUOTE_MAX = 120
EVIDENCE_WORDS = {"subtasks": "a completed subtask", "comments": "a comment", "attachments": "an attachment"}
# Below this similarity the nearest item is noise and is not offered as a hint.
NEAR_MISS_MIN = 0.1
_URL = re.compile(r"https?://[^\s<>()\"'\]]+", re.IGNORECASE)


def quote(text: str) -> str:
    """Task text shown back in a finding: one line, bounded, in typographic quotes."""
    flat = " ".join(text.split())
    if len(flat) > QUOTE_MAX:
        flat = flat[: QUOTE_MAX - 1].rstrip() + "…"
    return f"“{flat}”"


def _matches(name: str, patterns: list[str]) -> bool:
    return not patterns or any(fnmatchcase(name.casefold(), p.casefold()) for p in patterns)


def _or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def check_subtasks(snap: TaskSnapshot, cfg: SubtasksComplete) -> CheckResult:
    findings = []
    if len(snap.subtasks) < cfg.min_subtasks:
        findings.append(
            Finding(
                check=cfg.id,
                item=f"The task has {len(snap.subtasks)} subtask(s); the DoD asks for at least "
                f"{cfg.min_subtasks}.",
                satisfy=f"Break the work into at least {cfg.min_subtasks} subtasks and complete them.",
            )
        )
    for s in snap.subtasks:
        if not s.completed:
            findings.append(
                Finding(
                    check=cfg.id,
                    item=f"Subtask {quote(s.name)} is not complete.",
                    satisfy=f"Complete subtask {quote(s.name)}, or delete it if it is no longer needed.",
                )
            )
    done = sum(1 for s in snap.subtasks if s.completed)
    return CheckResult(
        id=cfg.id,
        passed=not findings,
        summary=f"{done}/{len(snap.subtasks)} subtasks complete",
        findings=findings,
    )


def check_attachments(snap: TaskSnapshot, cfg: Attachments) -> CheckResult:
    matching = [a.name for a in snap.attachments if _matches(a.name, cfg.patterns)]
    kinds = f" named like {_or_list(cfg.patterns)}" if cfg.patterns else ""
    findings = []
    if len(matching) < cfg.min:
        others = [a.name for a in snap.attachments if a.name not in matching]
        seen = f" (attached now but not matching: {', '.join(quote(n) for n in others)})" if others else ""
        findings.append(
            Finding(
                check=cfg.id,
                item=f"{len(matching)} of the {cfg.min} required attachment(s){kinds} are present{seen}.",
                satisfy=f"Attach {cfg.min - len(matching)} more file(s){kinds} to the task "
                "(e.g. a screenshot, test report or design export).",
            )
        )
    return CheckResult(
        id=cfg.id,
        passed=not findings,
        summary=f"{len(matching)} matching attachment(s), {cfg.min} required",
        findings=findings,
    )


def find_links(snap: TaskSnapshot, sources: list[str]) -> list[str]:
    texts: list[str] = []
    if "notes" in sources:
        texts.append(snap.notes)
    if "comments" in sources:
        texts += [c.text for c in snap.human_comments]
    urls = [m.group(0).rstrip(".,;:!?") for t in texts for m in _URL.finditer(t)]
    if "attachments" in sources:
        urls += [a.url for a in snap.attachments if a.url and _URL.match(a.url)]
    return list(dict.fromkeys(urls))


def check_links(snap: TaskSnapshot, cfg: Links) -> CheckResult:
    urls = [u for u in find_links(snap, list(cfg.sources)) if _matches(u, cfg.patterns)]
    kinds = f" matching {_or_list(cfg.patterns)}" if cfg.patterns else ""
    where = _or_list(["the description" if s == "notes" else f"a {s[:-1]}" for s in cfg.sources])
    findings = []
    if len(urls) < cfg.min:
        findings.append(
            Finding(
                check=cfg.id,
                item=f"{len(urls)} of the {cfg.min} required link(s){kinds} found.",
                satisfy=f"Add {cfg.min - len(urls)} more link(s){kinds} (e.g. the pull request) to {where}.",
            )
        )
    return CheckResult(
        id=cfg.id,
        passed=not findings,
        summary=f"{len(urls)} link(s){kinds}, {cfg.min} required",
        findings=findings,
    )


def criteria_of(snap: TaskSnapshot) -> list[str]:
    return [c.text for c in extract_criteria(snap.notes).items]


def check_acceptance(
    snap: TaskSnapshot, cfg: AcceptanceCriteria
) -> tuple[CheckResult, list[CriterionResult]]:
    criteria = criteria_of(snap)
    findings: list[Finding] = []
    if not criteria:
        if cfg.required:
            findings.append(
                Finding(
                    check=cfg.id,
                    item="The description has no acceptance criteria.",
                    satisfy="Add an “Acceptance criteria:” heading to the description followed by one "
                    "bullet (or Given/When/Then line) per testable criterion.",
                )
            )
        return CheckResult(
            id=cfg.id, passed=not findings, summary="no acceptance criteria", findings=findings
        ), []
    if not cfg.evidence:
        return CheckResult(id=cfg.id, passed=True, summary=f"{len(criteria)} criteria present"), []
    results = match_criteria(criteria, evidence_items(snap, cfg.evidence), cfg.threshold)
    sources = _or_list([EVIDENCE_WORDS[s] for s in cfg.evidence])
    for r in results:
        if r.addressed:
            continue
        near = ""
        if r.evidence and r.evidence[0].score >= NEAR_MISS_MIN:
            top = r.evidence[0]
            near = (
                f" Closest so far: {top.kind} {quote(top.text)}"
                f" (similarity {top.score:.2f} < {cfg.threshold:.2f})."
            )
        findings.append(
            Finding(
                check=cfg.id,
                item=f"Acceptance criterion {quote(r.text)} has no evidence.",
                satisfy=f"Show it is met with {sources} that names it.{near}",
            )
        )
    addressed = sum(1 for r in results if r.addressed)
    return (
        CheckResult(
            id=cfg.id,
            passed=not findings,
            summary=f"{addressed}/{len(results)} acceptance criteria evidenced",
            findings=findings,
        ),
        results,
    )


def check_fields(snap: TaskSnapshot, cfg: RequiredFields) -> CheckResult:
    lowered = {k.casefold(): v for k, v in snap.fields.items()}
    findings = []
    for name in cfg.fields:
        key = name.casefold()
        if key not in lowered:
            findings.append(
                Finding(
                    check=cfg.id,
                    item=f"Field “{name}” is not on this task.",
                    satisfy=f"Add the custom field “{name}” to the task's project and set it.",
                )
            )
        elif lowered[key] is None or not str(lowered[key]).strip():
            findings.append(
                Finding(
                    check=cfg.id, item=f"Field “{name}” is not set.", satisfy=f"Set “{name}” on the task."
                )
            )
    return CheckResult(
        id=cfg.id,
        passed=not findings,
        summary=f"{len(cfg.fields) - len(findings)}/{len(cfg.fields)} required fields set",
        findings=findings,
    )


_SIMPLE: dict[str, Callable[[TaskSnapshot, Any], CheckResult]] = {
    "subtasks_complete": check_subtasks,
    "attachments": check_attachments,
    "links": check_links,
    "required_fields": check_fields,
}


def evaluate(snapshot: TaskSnapshot, config: DodConfig) -> DodReport:
    """Run every configured check in order; the task passes only when all of them pass."""
    results: list[CheckResult] = []
    criteria: list[CriterionResult] = []
    for check in config.checks:
        if isinstance(check, AcceptanceCriteria):
            result, criteria = check_acceptance(snapshot, check)
        else:
            result = _SIMPLE[check.id](snapshot, check)
        results.append(result)
    return DodReport(
        task_gid=snapshot.gid, passed=all(r.passed for r in results), checks=results, criteria=criteria
    )
