"""The specialists the supervisor can hand work to.

A specialist is anything that turns `(args, RunContext)` into a Proposal: a plain function, or a
compiled subgraph (not checkpointed itself; only the outer supervisor graph is) wrapped with
`Specialist.from_graph`. Only real specialists are registered; an unknown name ends the run with
an error report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agents.proposal import Proposal

if TYPE_CHECKING:
    from graphs.context import RunContext

SpecialistFn = Callable[[dict[str, Any], "RunContext"], Proposal]


class UnknownSpecialist(LookupError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        shown = ", ".join(known) or "none registered"
        super().__init__(f"unknown agent {name!r}; available: {shown}")


@dataclass(frozen=True)
class Specialist:
    name: str
    description: str
    run: SpecialistFn
    # Words that pick this specialist for free-text (offline chat) requests.
    keywords: tuple[str, ...] = ()

    @classmethod
    def from_graph(
        cls, name: str, description: str, graph: Any, *, keywords: tuple[str, ...] = ()
    ) -> Specialist:
        """Wrap a compiled subgraph that takes `{"args": ...}` and ends with a `proposal` key."""

        def run(args: dict[str, Any], ctx: RunContext) -> Proposal:
            out = graph.invoke({"args": args}, context=ctx)
            return Proposal.model_validate(out["proposal"])

        return cls(name=name, description=description, run=run, keywords=keywords)


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
