"""The sprint review document: what was delivered (grouped by epic), demo notes, what slipped and why.

Pure: it takes the sprint's tasks already mapped (`ReviewTask`) and returns a model, a digest and a
self-contained HTML page (inline CSS, no scripts, no external assets, a CSP that forbids them).
Every piece of text that came from Asana — names, descriptions, comments, people — is untrusted and
goes through `html.escape`; only this module writes tags. Task links are kept only when they are
Asana permalinks.

Epics, in the order Asana teams represent them: the task's parent task (an epic task with its
stories as subtasks — the forecast's `epic:` scope uses the same rule), else an "Epic" custom field,
else the task's first tag, else "No epic".
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from datetime import date

from pydantic import BaseModel, Field

NO_EPIC = "No epic"
MAX_NOTE = 280
MAX_NOTES = 3
_ASANA_LINK = re.compile(r"^https://app\.asana\.com/[\w/?=&.\-]+$")
# Sentences that describe something to show: what a user can now do, acceptance criteria, a demo.
_DEMO_HINT = re.compile(
    r"\b(demo|show|shows|can now|users? can|now (?:supports|works|lets)|acceptance|criteria|given"
    r"|shipped|released|deployed|merged|live)\b",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")
_FILENAME_BAD = re.compile(r"[^\w .,()\-]+")


class ReviewTask(BaseModel):
    gid: str
    name: str
    epic: str = NO_EPIC
    points: float | None = None
    assignee: str | None = None
    permalink: str | None = None
    notes: str = ""
    comments: list[str] = Field(default_factory=list)  # the team's comments, oldest first
    completed: bool = False  # completed inside the sprint window
    status: str | None = None
    blocked_days: float = 0.0
    still_blocked: bool = False
    waiting_on: list[str] = Field(default_factory=list)  # names of unfinished dependencies
    added_mid_sprint: bool = False
    due_moves: int = 0
    started: bool = False


class EpicGroup(BaseModel):
    name: str
    points: float
    tasks: list[ReviewTask]


class Slipped(BaseModel):
    task: ReviewTask
    reasons: list[str]


class SprintReview(BaseModel):
    sprint: str
    start_on: date
    end_on: date
    goal: str | None = None
    delivered: list[EpicGroup]
    slipped: list[Slipped]
    numbers: dict[str, float]
    narrative: str = ""
    engine: str = "offline"
    # One line per Asana goal the sprint project supports (tools/health/goals.py), read when the
    # review is written; not part of the digest, since goals move on after the sprint ends.
    goals: list[str] = Field(default_factory=list)


def _clip(text: str, limit: int = MAX_NOTE) -> str:
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def demo_notes(notes: str, comments: list[str]) -> list[str]:
    """Up to three short notes to demo from: description sentences that say what can be shown
    (else its first sentence), then the latest comment that reads like a delivery note."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n+", notes or "") if s.strip()]
    picked = [s for s in sentences if _DEMO_HINT.search(s)][:2] or sentences[:1]
    out = [_clip(s) for s in picked]
    for c in reversed(comments):
        if _DEMO_HINT.search(c):
            out.append(_clip(c))
            break
    return out[:MAX_NOTES]


def slip_reasons(t: ReviewTask) -> list[str]:
    """Why an unfinished task slipped, from durable signals only (status, links, stories)."""
    reasons: list[str] = []
    if t.still_blocked or (t.status or "").strip().lower() == "blocked":
        reasons.append(
            "still blocked at the sprint end" + (f" ({t.blocked_days:g} days)" if t.blocked_days else "")
        )
    elif t.blocked_days:
        reasons.append(f"blocked for {t.blocked_days:g} days during the sprint")
    if t.waiting_on:
        reasons.append("waiting on unfinished work: " + ", ".join(t.waiting_on[:3]))
    if t.added_mid_sprint:
        reasons.append("added after the sprint started (scope change)")
    if t.due_moves:
        reasons.append(f"due date moved {t.due_moves} time{'s' if t.due_moves != 1 else ''}")
    if not t.started:
        reasons.append("never started")
    elif t.status:
        reasons.append(f"status at the end: {t.status}")
    if t.comments:
        reasons.append(f"last comment: “{_clip(t.comments[-1], 160)}”")
    return reasons or ["no reason recorded in Asana"]


def build_review(
    sprint: str,
    start_on: date,
    end_on: date,
    tasks: list[ReviewTask],
    *,
    goal: str | None = None,
) -> SprintReview:
    """Group the done tasks by epic (largest epic first, then by name) and explain the rest."""
    done = [t for t in tasks if t.completed]
    groups: dict[str, list[ReviewTask]] = {}
    for t in done:
        groups.setdefault(t.epic or NO_EPIC, []).append(t)
    delivered = [
        EpicGroup(name=name, points=float(sum(t.points or 0 for t in items)), tasks=items)
        for name, items in groups.items()
    ]
    delivered.sort(key=lambda g: (g.name == NO_EPIC, -g.points, g.name.casefold()))
    slipped = [Slipped(task=t, reasons=slip_reasons(t)) for t in tasks if not t.completed]
    scope_points = float(sum(t.points or 0 for t in tasks))
    done_points = float(sum(t.points or 0 for t in done))
    numbers = {
        "scope_items": float(len(tasks)),
        "scope_points": scope_points,
        "done_items": float(len(done)),
        "done_points": done_points,
        "slipped_items": float(len(slipped)),
        "slipped_points": scope_points - done_points,
    }
    return SprintReview(
        sprint=sprint,
        start_on=start_on,
        end_on=end_on,
        goal=goal,
        delivered=delivered,
        slipped=slipped,
        numbers=numbers,
    )


def digest(review: SprintReview) -> str:
    """Hash of everything the document states, not the narrative's wording (a model may phrase the
    same facts differently each run): a re-run with unchanged inputs has the same one."""
    facts = review.model_dump(mode="json", exclude={"narrative", "engine", "goals"})
    raw = json.dumps(facts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def safe_filename(text: str) -> str:
    """Text usable in an attachment name (the attach kinds' filename rule)."""
    return _SPACE.sub(" ", _FILENAME_BAD.sub("-", text)).strip(" -") or "file"


def file_prefix(sprint: str) -> str:
    return f"{safe_filename(sprint)} sprint review"


def filename(review: SprintReview) -> str:
    """Names the sprint and carries the digest: an attachment of this name means this exact review
    is already attached (the marker a re-run looks for)."""
    return f"{file_prefix(review.sprint)} {digest(review)[:10]}.html"


# --- HTML ------------------------------------------------------------------------------------------

CSP = "default-src 'none'; style-src 'unsafe-inline'"
_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1e1f21}
body{max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}
h3{font-size:1.05rem;margin-bottom:.3rem}.meta{color:#6d6e6f}table{border-collapse:collapse}
td,th{padding:.2rem .8rem;text-align:left;border-bottom:1px solid #eee}td.n{text-align:right}
ul.notes{color:#444;font-size:.93rem}li.task{margin-bottom:.6rem}.reason{color:#8a4b00}
footer{margin-top:2.5rem;color:#6d6e6f;font-size:.85rem}
""".strip()


def items(n: float) -> str:
    return f"{n:g} item" if n == 1 else f"{n:g} items"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _pts(x: float | None) -> str:
    return "unestimated" if x is None else f"{x:g} pts"


def _task_title(t: ReviewTask) -> str:
    name = _e(t.name)
    if t.permalink and _ASANA_LINK.match(t.permalink):
        name = f'<a href="{_e(t.permalink)}">{name}</a>'
    who = f" — {_e(t.assignee)}" if t.assignee else ""
    return f"<strong>{name}</strong> ({_e(_pts(t.points))}){who}"


def _row(label: str, items: float, points: float) -> str:
    return f'<tr><th>{label}</th><td class="n">{items:g} items</td><td class="n">{points:g} pts</td></tr>'


def render_html(review: SprintReview, written_by: str) -> str:
    """The review as one self-contained HTML page."""
    n = review.numbers
    rate = f"{n['done_points'] / n['scope_points']:.0%}" if n["scope_points"] else "n/a"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # Inert by construction: no scripts, frames, images or fetches, whatever slipped through.
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f"<title>{_e(review.sprint)} sprint review</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(review.sprint)} sprint review</h1>",
        f'<p class="meta">{review.start_on.isoformat()} → {review.end_on.isoformat()}</p>',
    ]
    if review.goal:
        parts.append(f"<p><strong>Sprint goal:</strong> {_e(review.goal)}</p>")
    if review.narrative:
        parts.append(f"<p>{_e(review.narrative)}</p>")
    if review.goals:
        parts.append("<h2>Goals this sprint supports</h2><ul>")
        parts += [f"<li>{_e(line)}</li>" for line in review.goals]
        parts.append("</ul>")
    parts += [
        "<h2>In numbers</h2><table>",
        _row("Delivered", n["done_items"], n["done_points"]),
        _row("Slipped", n["slipped_items"], n["slipped_points"]),
        _row("Scope", n["scope_items"], n["scope_points"]),
        f'<tr><th>Delivered share</th><td class="n" colspan="2">{rate} of the points</td></tr>',
        "</table>",
        "<h2>What was delivered</h2>",
    ]
    if not review.delivered:
        parts.append("<p>Nothing was completed in this sprint; there is nothing to demo.</p>")
    for g in review.delivered:
        parts.append(
            f'<h3>{_e(g.name)} <span class="meta">({items(len(g.tasks))}, {g.points:g} pts)</span></h3><ul>'
        )
        for t in g.tasks:
            notes = demo_notes(t.notes, t.comments)
            demo = "".join(f"<li>{_e(x)}</li>" for x in notes)
            parts.append(
                f'<li class="task">{_task_title(t)}'
                + (f'<ul class="notes"><li><em>Demo notes:</em></li>{demo}</ul>' if demo else "")
                + "</li>"
            )
        parts.append("</ul>")
    parts.append("<h2>What slipped, and why</h2>")
    if not review.slipped:
        parts.append("<p>Nothing slipped: every task of the sprint was completed.</p>")
    else:
        parts.append("<ul>")
        for s in review.slipped:
            reasons = "".join(f'<li class="reason">{_e(r)}</li>' for r in s.reasons)
            epic = f'<span class="meta">[{_e(s.task.epic)}]</span>'
            parts.append(f'<li class="task">{_task_title(s.task)} {epic}<ul>{reasons}</ul></li>')
        parts.append("</ul>")
    parts.append(
        f"<footer>Written by {_e(written_by)}; numbers, groups and reasons computed by sprintpilot from "
        "the sprint's Asana tasks, comments and history. Task text is quoted as written in Asana.</footer>"
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
