"""The specialists the supervisor can hand work to, and everything a caller needs to know about one.

A specialist is anything that turns `(args, RunContext)` into a Proposal: a plain function, or a
compiled subgraph (not checkpointed itself; only the outer supervisor graph is) wrapped with
`Specialist.from_graph`. Only real specialists are registered; an unknown name ends the run with
an error report.

Besides `run`, a `Specialist` declares its contract: `args_model` (the pydantic model of its
arguments: chat tool schemas and validation come from it), the chat `verbs` that call it, what its
main argument names (`expects`, a `Target`), the kind of project it works on (`project_kind`) and
its chat options (`options`). The offline chat grammar (graphs/chat/grammar.py) is generated from
these declarations, so adding an agent never means editing the grammar.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from agents.proposal import Proposal
from tools.errors import NotFoundError

if TYPE_CHECKING:
    from graphs.context import RunContext

SpecialistFn = Callable[[dict[str, Any], "RunContext"], Proposal]


class UnknownSpecialist(NotFoundError, LookupError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        shown = ", ".join(known) or "none registered"
        super().__init__(f"unknown agent {name!r}; available: {shown}")


TargetKind = Literal["project", "task", "portfolio", "projects", "none"]
ProjectKind = Literal["backlog", "sprint", "finished_sprint", "portfolio", "any"]
OptionType = Literal["number", "integer", "text"]
_VERB = re.compile(r"^[a-z][a-z0-9\-]*$")


@dataclass(frozen=True)
class Target:
    """What a chat command's main argument names and which args field it fills.

    `kind`: what the user types a reference to (a project, a task, a portfolio, a comma list of
    projects, or nothing); the chat resolves projects and tasks to in-scope gids, a portfolio is
    passed as typed. `field`: the args field filled (None only for kind "none"). `optional`: the
    command may omit it. `help`: the phrase on the command's help line.

    An alternative target (`Specialist.alternatives`) is picked either by `verbs` (it applies only
    after these command words, e.g. `risk <task>`) or by `keyword` (a leading word, e.g.
    `triage project <project>`). `task_projects`: for a task, also fill this args field with the
    projects the task belongs to.
    """

    kind: TargetKind = "none"
    field: str | None = None
    optional: bool = False
    help: str = ""
    verbs: tuple[str, ...] = ()
    keyword: str | None = None
    task_projects: str | None = None

    def __post_init__(self) -> None:
        if (self.kind == "none") != (self.field is None):
            raise ValueError(f"target {self.kind!r}: a field is needed exactly when the kind is not 'none'")
        if self.task_projects is not None and self.kind != "task":
            raise ValueError("task_projects is only for a task target")

    def usage(self) -> str:
        """How the argument reads on a help line: `<task>`, `[project]`, `<project>[, <project>…]`."""
        if self.kind == "none":
            return ""
        if self.kind == "projects":
            return "<project>[, <project>…]"
        return f"[{self.kind}]" if self.optional else f"<{self.kind}>"

    def args_fields(self) -> tuple[str, ...]:
        return tuple(f for f in (self.field, self.task_projects) if f is not None)


NO_TARGET = Target()


@dataclass(frozen=True)
class ChatOption:
    """`WORD VALUE` in a chat command fills args field `field` (e.g. `capacity 34`, `days 3`).

    `type`: "number" (float), "integer" or "text" (runs to the next option word). `verbs`: only
    after these command words (empty: after every verb of the specialist). `sets`: further args
    the option implies, as (field, value) pairs (a slip given in days is a "manual" trigger).
    """

    word: str
    field: str
    type: OptionType
    verbs: tuple[str, ...] = ()
    sets: tuple[tuple[str, Any], ...] = ()

    def usage(self) -> str:
        return f"[{self.word} {'NAME' if self.type == 'text' else 'N'}]"

    def convert(self, raw: str) -> Any:
        if self.type == "number":
            return float(raw)
        if self.type == "integer":
            return int(float(raw))
        return raw


@dataclass(frozen=True)
class Specialist:
    """A registered specialist: how to run it and what every caller needs to know to call it."""

    name: str
    description: str
    run: SpecialistFn
    # The pydantic model of the args: chat tool schemas and validation come from it.
    args_model: type[BaseModel]
    # Chat (and CLI) command words that call it; the first one is shown in the help.
    verbs: tuple[str, ...] = ()
    # What the main argument of its commands names, and which args field it fills.
    expects: Target = NO_TARGET
    # Other targets, picked by verb (`risk <task>`) or by a leading keyword (`triage project <p>`).
    alternatives: tuple[Target, ...] = ()
    # `WORD VALUE` options of its chat commands (`capacity 34`).
    options: tuple[ChatOption, ...] = ()
    # The kind of project it works on.
    project_kind: ProjectKind = "any"

    @classmethod
    def from_graph(
        cls,
        name: str,
        description: str,
        graph: Any,
        *,
        args_model: type[BaseModel],
        verbs: tuple[str, ...] = (),
        expects: Target = NO_TARGET,
        alternatives: tuple[Target, ...] = (),
        options: tuple[ChatOption, ...] = (),
        project_kind: ProjectKind = "any",
    ) -> Specialist:
        """Wrap a compiled subgraph that takes `{"args": ...}` and ends with a `proposal` key."""

        def run(args: dict[str, Any], ctx: RunContext) -> Proposal:
            out = graph.invoke({"args": args}, context=ctx)
            return Proposal.model_validate(out["proposal"])

        return cls(
            name=name,
            description=description,
            run=run,
            args_model=args_model,
            verbs=verbs,
            expects=expects,
            alternatives=alternatives,
            options=options,
            project_kind=project_kind,
        )

    def target_for(self, verb: str, keyword: str | None = None) -> Target:
        """The target a command word (and an optional leading keyword) selects."""
        if keyword is not None:
            for alt in self.alternatives:
                if alt.keyword == keyword and (not alt.verbs or verb in alt.verbs):
                    return alt
        for alt in self.alternatives:
            if alt.keyword is None and verb in alt.verbs:
                return alt
        return self.expects

    def keywords_for(self, verb: str) -> tuple[str, ...]:
        """Leading words that switch the target after `verb`."""
        return tuple(
            a.keyword for a in self.alternatives if a.keyword is not None and (not a.verbs or verb in a.verbs)
        )

    def options_for(self, verb: str) -> tuple[ChatOption, ...]:
        return tuple(o for o in self.options if not o.verbs or verb in o.verbs)

    def problems(self) -> list[str]:
        """What is inconsistent in the declaration (empty when it is sound)."""
        out: list[str] = []
        if not (isinstance(self.args_model, type) and issubclass(self.args_model, BaseModel)):
            return [f"args_model must be a pydantic model class, got {self.args_model!r}"]
        open_model = self.args_model.model_config.get("extra") == "allow"
        fields = set(self.args_model.model_fields)
        for verb in self.verbs:
            if not _VERB.match(verb):
                out.append(f"verb {verb!r} must be one lower-case word")
        if len(set(self.verbs)) != len(self.verbs):
            out.append("verbs repeat")
        used: list[str] = []
        for t in (self.expects, *self.alternatives):
            used += t.args_fields()
            out += [f"target verb {v!r} is not one of its verbs" for v in t.verbs if v not in self.verbs]
        for alt in self.alternatives:
            if not alt.verbs and alt.keyword is None:
                out.append(f"alternative target {alt.kind!r} needs verbs or a keyword")
        for opt in self.options:
            used += [opt.field, *(f for f, _ in opt.sets)]
            out += [f"option verb {v!r} is not one of its verbs" for v in opt.verbs if v not in self.verbs]
        if not open_model:
            out += [
                f"{f!r} is not a field of {self.args_model.__name__}"
                for f in dict.fromkeys(used)
                if f not in fields
            ]
        return out


class SpecialistRegistry:
    def __init__(self, specialists: list[Specialist] | None = None) -> None:
        self._items: dict[str, Specialist] = {}
        for spec in specialists or []:
            self.register(spec)

    def register(self, specialist: Specialist) -> None:
        if not specialist.name or not specialist.name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"specialist name must be a simple identifier, got {specialist.name!r}")
        if specialist.name in self._items:
            raise ValueError(f"specialist {specialist.name!r} is already registered")
        problems = specialist.problems()
        if problems:
            raise ValueError(f"specialist {specialist.name!r}: {'; '.join(problems)}")
        taken = {v: s.name for s in self._items.values() for v in s.verbs}
        clash = [f"{v!r} (already {taken[v]!r})" for v in specialist.verbs if v in taken]
        if clash:
            raise ValueError(f"specialist {specialist.name!r}: verbs taken: {', '.join(clash)}")
        self._items[specialist.name] = specialist

    def get(self, name: str) -> Specialist:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownSpecialist(name, self.names()) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[Specialist]:
        return iter(self._items[n] for n in self.names())
