"""The offline command grammar: what the chat understands without a model.

Parsing is pure (no Asana reads); `graphs/chat/offline.py` resolves names and turns a parsed
command into the same specialist tool call a model would make.

    plan <project> [capacity N] [sprint NAME]     sprint plan from a backlog (planner)
    standup <project>                             daily stand-up of a sprint (standup)
    review <task>                                 Definition-of-Done review (qa)
    retro [project]                               sprint retrospective (retro)
    risk <task> [days N]                          delay cascade from one task (dependencies)
    deps <project>[, <project>…]                  dependency scan (dependencies)
    triage <task> | triage project <project>      estimate and refine (triage)
    forecast <project>                            delivery forecast (forecast)
    health <portfolio>                            portfolio health (health)
    run <agent> {json}                            any registered specialist with explicit args
    approve [all|N,M]                             approve all, or only N,M (the rest rejected)
    reject [all|N,M] [reason]                     reject all, or only N,M (the rest approved)
    edit N {json}                                 change action N's params/target (the rest approved)
    show                                          the pending approval request
    help                                          this list
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

HELP = __doc__.split("\n\n", 2)[2].rstrip() if __doc__ else ""

FREE_TEXT_NEEDS_MODEL = (
    "Free-text questions need a model: set SPRINTPILOT_MODEL=openai:<model> (and "
    "SPRINTPILOT_MODEL_API_KEY), or openai-compatible:<model> with SPRINTPILOT_MODEL_BASE_URL. "
    "Type `help` for commands."
)

# Command word → (specialist, what its argument names).
SPECIALIST_COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("planner", "project"),
    "standup": ("standup", "project"),
    "stand-up": ("standup", "project"),
    "review": ("qa", "task"),
    "qa": ("qa", "task"),
    "retro": ("retro", "project?"),
    "risk": ("dependencies", "task"),
    "deps": ("dependencies", "projects"),
    "dependencies": ("dependencies", "projects"),
    "triage": ("triage", "task"),
    "forecast": ("forecast", "project"),
    "health": ("health", "portfolio"),
}
DECISION_WORDS = ("approve", "reject", "edit")
_NUMBERS = re.compile(r"^\d+(\s*,\s*\d+)*$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


class GrammarError(ValueError):
    pass


@dataclass
class AgentCommand:
    agent: str
    verb: str
    target: str | None = None  # project/task/portfolio reference as typed
    options: dict[str, Any] = field(default_factory=dict)
    raw_args: dict[str, Any] | None = None  # `run <agent> {json}`


@dataclass
class DecisionCommand:
    type: Literal["approve", "reject", "edit"]
    numbers: list[int] = field(default_factory=list)  # empty: all
    message: str | None = None
    edit: dict[str, Any] | None = None


@dataclass
class MetaCommand:
    type: Literal["help", "show"]


Parsed = AgentCommand | DecisionCommand | MetaCommand


def command_word(text: str) -> str:
    return text.strip().split(maxsplit=1)[0].lower() if text.strip() else ""


def parse(text: str) -> Parsed | None:
    """A command, or None when the text is not one (free text); GrammarError when malformed."""
    stripped = text.strip()
    if not stripped:
        return None
    head, _, rest = stripped.partition(" ")
    word = head.lower().lstrip("/")
    rest = rest.strip()
    if word in ("help", "?"):
        return MetaCommand("help")
    if word == "show":
        return MetaCommand("show")
    if word in DECISION_WORDS:
        return parse_decision(word, rest)
    if word == "run":
        return _parse_run(rest)
    if word in SPECIALIST_COMMANDS:
        return _parse_agent(word, rest)
    return None


def _parse_run(rest: str) -> AgentCommand:
    name, _, raw = rest.partition(" ")
    if not name:
        raise GrammarError("usage: run <agent> {json args}")
    args: Any = {}
    if raw.strip():
        try:
            args = json.loads(raw)
        except json.JSONDecodeError as err:
            raise GrammarError(f"run {name}: the arguments are not valid JSON ({err.msg})") from None
    if not isinstance(args, dict):
        raise GrammarError(f"run {name}: the arguments must be a JSON object")
    return AgentCommand(agent=name, verb="run", raw_args=args)


def _take_option(words: list[str], name: str, *, number: bool) -> tuple[list[str], str | None]:
    """Split `... name VALUE ...` off the words; for text options VALUE runs to the next option."""
    lowered = [w.lower() for w in words]
    if name not in lowered:
        return words, None
    i = lowered.index(name)
    if number:
        if i + 1 >= len(words) or not _NUMBER.match(words[i + 1]):
            raise GrammarError(f"`{name}` needs a number")
        return words[:i] + words[i + 2 :], words[i + 1]
    end = next((j for j in range(i + 1, len(words)) if lowered[j] in ("capacity", "days")), len(words))
    value = " ".join(words[i + 1 : end])
    if not value:
        raise GrammarError(f"`{name}` needs a name")
    return words[:i] + words[end:], value


def _parse_agent(word: str, rest: str) -> AgentCommand:
    agent, kind = SPECIALIST_COMMANDS[word]
    words = rest.split()
    options: dict[str, Any] = {}
    if agent == "planner":
        words, capacity = _take_option(words, "capacity", number=True)
        words, sprint = _take_option(words, "sprint", number=False)
        if capacity is not None:
            options["capacity"] = float(capacity)
        if sprint is not None:
            options["sprint_name"] = sprint
    if agent == "dependencies" and word == "risk":
        words, days = _take_option(words, "days", number=True)
        if days is not None:
            options["days"] = int(float(days))
    if agent == "triage" and words and words[0].lower() == "project":
        words = words[1:]
        options["mode"] = "project"
    target = " ".join(words).strip() or None
    if target is None and not kind.endswith("?"):
        raise GrammarError(f"usage: {word} <{kind.rstrip('?').rstrip('s')}>; type `help` for all commands")
    return AgentCommand(agent=agent, verb=word, target=target, options=options)


def parse_decision(word: str, rest: str) -> DecisionCommand:
    if word == "edit":
        number, _, raw = rest.partition(" ")
        if not number.isdigit() or not raw.strip():
            raise GrammarError('usage: edit N {"params": {...}} (or {"target": "<gid>"})')
        try:
            change = json.loads(raw)
        except json.JSONDecodeError as err:
            raise GrammarError(f"edit {number}: not valid JSON ({err.msg})") from None
        if not isinstance(change, dict) or not change or not set(change) <= {"params", "target"}:
            raise GrammarError(
                f'edit {number}: give an object like {{"params": {{...}}}} or {{"target": "<gid>"}}'
            )
        return DecisionCommand("edit", [int(number)], edit=change)
    kind: Literal["approve", "reject"] = "approve" if word == "approve" else "reject"
    first, _, tail = rest.partition(" ")
    numbers: list[int] = []
    message = rest or None
    if first.lower() == "all":
        message = tail.strip() or None
    elif first and _NUMBERS.match(first):
        numbers = [int(n) for n in first.split(",")]
        message = tail.strip() or None
    if kind == "approve" and message:
        raise GrammarError("usage: approve [all|N,M]")
    return DecisionCommand(kind, numbers, message=message)
