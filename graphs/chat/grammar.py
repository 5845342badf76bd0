"""The offline command grammar: what the chat understands without a model.

The specialist commands are generated from the registry (graphs/registry.py): each specialist's
`verbs`, the target its main argument names (`expects`, `alternatives`) and its `options`; its
help line comes from the same declarations. The decision and meta commands (`run <agent> {json}`,
`approve`, `reject`, `edit`, `show`, `help`) are fixed.

Parsing is pure (no Asana reads); `graphs/chat/offline.py` resolves names and turns a parsed
command into the same specialist tool call a model would make.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from graphs.registry import NO_TARGET, ChatOption, Specialist, SpecialistRegistry, Target
from tools.errors import UserError

FREE_TEXT_NEEDS_MODEL = (
    "Free-text questions need a model: set SPRINTPILOT_MODEL=openai:<model> (and "
    "SPRINTPILOT_MODEL_API_KEY), or openai-compatible:<model> with SPRINTPILOT_MODEL_BASE_URL. "
    "Type `help` for commands."
)

DECISION_WORDS = ("approve", "reject", "edit")
META_WORDS = ("help", "?", "show")
RESERVED_WORDS = ("run", *DECISION_WORDS, *META_WORDS)
# `options["mode"]` holds the leading keyword that picked an alternative target (`triage project`).
MODE = "mode"
_HELP_WIDTH = 46  # column of the help lines' explanations (after the 4-space indent)
_FIXED_COMMANDS = (
    ("run <agent> {json}", "any registered specialist with explicit args"),
    ("approve [all|N,M]", "approve all, or only N,M (the rest rejected)"),
    ("reject [all|N,M] [reason]", "reject all, or only N,M (the rest approved)"),
    ("edit N {json}", "change action N's params/target (the rest approved)"),
    ("show", "the pending approval request"),
    ("help", "this list"),
)
_NUMBERS = re.compile(r"^\d+(\s*,\s*\d+)*$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


class GrammarError(UserError, ValueError):
    pass


@dataclass
class AgentCommand:
    agent: str
    verb: str
    target: str | None = None  # project/task/portfolio reference as typed
    options: dict[str, Any] = field(default_factory=dict)  # args field → value; `mode` → keyword
    raw_args: dict[str, Any] | None = None  # `run <agent> {json}`
    expects: Target = NO_TARGET  # what `target` names and which args field it fills
    given: tuple[ChatOption, ...] = ()  # the options the command used


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


class Grammar:
    """The command grammar of one set of specialists (usually a registry's)."""

    def __init__(self, specialists: Iterable[Specialist]) -> None:
        self.commands: dict[str, Specialist] = {}
        self.specialists: list[Specialist] = []
        for spec in specialists:
            self.specialists.append(spec)
            for verb in spec.verbs:
                if verb in RESERVED_WORDS:
                    raise ValueError(f"specialist {spec.name!r}: {verb!r} is a reserved chat word")
                if verb in self.commands:
                    raise ValueError(
                        f"verb {verb!r} of {spec.name!r} is taken by {self.commands[verb].name!r}"
                    )
                self.commands[verb] = spec
        fixed = [_help_line(usage, text) for usage, text in _FIXED_COMMANDS]
        self.help = "\n".join([*self._specialist_help(), *fixed])

    @classmethod
    def from_registry(cls, registry: SpecialistRegistry) -> Grammar:
        return cls(registry)

    @property
    def verbs(self) -> list[str]:
        """Every command word (specialist verbs, then the fixed words)."""
        return [*self.commands, *RESERVED_WORDS]

    def _specialist_help(self) -> list[str]:
        lines: list[str] = []
        for spec in self.specialists:
            shown: list[Target] = []
            for verb in spec.verbs:
                target = spec.target_for(verb)
                if target in shown:
                    continue  # a synonym (`stand-up`, `qa`): the first verb is listed
                shown.append(target)
                usage = " ".join(
                    part
                    for part in (verb, target.usage(), *(o.usage() for o in spec.options_for(verb)))
                    if part
                )
                for kw in spec.keywords_for(verb):
                    usage += f" | {verb} {kw} {spec.target_for(verb, kw).usage()}".rstrip()
                lines.append(_help_line(usage, f"{target.help or spec.description} ({spec.name})"))
        return lines

    def parse(self, text: str) -> Parsed | None:
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
        if word in self.commands:
            return _parse_agent(self.commands[word], word, rest)
        return None


def _help_line(usage: str, text: str) -> str:
    return f"    {usage}{' ' * max(2, _HELP_WIDTH - len(usage))}{text}"


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


def _take_option(words: list[str], opt: ChatOption, stops: set[str]) -> tuple[list[str], str | None]:
    """Split `... WORD VALUE ...` off the words; a text VALUE runs to the next option word."""
    lowered = [w.lower() for w in words]
    if opt.word not in lowered:
        return words, None
    i = lowered.index(opt.word)
    if opt.type != "text":
        if i + 1 >= len(words) or not _NUMBER.match(words[i + 1]):
            raise GrammarError(f"`{opt.word}` needs a number")
        return words[:i] + words[i + 2 :], words[i + 1]
    end = next((j for j in range(i + 1, len(words)) if lowered[j] in stops), len(words))
    value = " ".join(words[i + 1 : end])
    if not value:
        raise GrammarError(f"`{opt.word}` needs a name")
    return words[:i] + words[end:], value


def _parse_agent(spec: Specialist, word: str, rest: str) -> AgentCommand:
    words = rest.split()
    options: dict[str, Any] = {}
    keyword = words[0].lower() if words and words[0].lower() in spec.keywords_for(word) else None
    if keyword is not None:
        words = words[1:]
        options[MODE] = keyword
    expects = spec.target_for(word, keyword)
    applicable = spec.options_for(word)
    given: list[ChatOption] = []
    # Numbers first, then text options (a text value stops at the next option word).
    for opt in sorted(applicable, key=lambda o: o.type == "text"):
        stops = {o.word for o in applicable if o is not opt}
        words, raw = _take_option(words, opt, stops)
        if raw is not None:
            options[opt.field] = opt.convert(raw)
            given.append(opt)
    target = " ".join(words).strip() or None
    command = f"{word} {keyword}" if keyword else word
    if expects.kind == "none" and target is not None:
        raise GrammarError(f"usage: {command} (it takes no argument); type `help` for all commands")
    if expects.kind != "none" and target is None and not expects.optional:
        noun = "project" if expects.kind == "projects" else expects.kind
        raise GrammarError(f"usage: {command} <{noun}>; type `help` for all commands")
    return AgentCommand(
        agent=spec.name,
        verb=word,
        target=target,
        options=options,
        expects=expects,
        given=tuple(given),
    )


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
