"""Commands imported only when they run (or when their own help is asked for).

`sprintpilot --help` lists every command but needs none of their modules: importing them all
(chat alone pulls LangChain) made the bare help take 2.4 s. Each entry names the module and
attribute that define the command and repeats its one-line help for the listing;
tests/cli/test_lazy_commands.py checks that the line matches the command's own help.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


def _base(name: str) -> Any:
    """click's exception class `name`, as typer raises it: newer typer vendors its own click, so
    the classes are found from typer's public `BadParameter`, not imported from `click`."""
    return next(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == name)


_USAGE_ERROR = _base("UsageError")


@contextmanager
def _usage_errors_in_one_line() -> Iterator[None]:
    try:
        yield
    except _USAGE_ERROR as err:
        where = f" (see `{err.ctx.command_path} --help`)" if err.ctx is not None else ""
        typer.echo(f"error: {err.format_message().rstrip('.')}{where}", err=True)
        raise typer.Exit(1) from None


@dataclass(frozen=True)
class LazyCommand:
    target: str  # "module:attribute": a command function, or a Typer app for a group
    summary: str  # the listing's line; the command's own help unless `help` is given
    hidden: bool = False
    help: str | None = None  # for a function whose docstring is not its help

    def load(self, name: str) -> Any:
        module, _, attr = self.target.partition(":")
        obj = getattr(importlib.import_module(module), attr)
        command: Any
        if isinstance(obj, typer.Typer):
            command = typer.main.get_group(obj)
        else:
            single = typer.Typer(add_completion=False)  # completion belongs to the root command
            single.command(name, hidden=self.hidden, help=self.help)(obj)
            command = typer.main.get_command(single)
        command.name = name
        return command


class LazyGroup(TyperGroup):
    """A Typer group whose `lazy` entries are imported on first use; the listing shows their summary."""

    lazy: dict[str, LazyCommand] = {}
    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        eager = super().list_commands(ctx)
        return eager + [name for name in self.lazy if name not in eager]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = self.lazy.get(cmd_name)
        if entry is not None and cmd_name not in self.commands:
            if self._listing:  # the group's own help: a stand-in that carries the summary
                return TyperCommand(name=cmd_name, help=entry.summary, hidden=entry.hidden)
            self.commands[cmd_name] = entry.load(cmd_name)
        return super().get_command(ctx, cmd_name)

    # A usage error (unknown option or command, a value of the wrong type) is one line on stderr,
    # like every other error, and exits 1, the code of bad arguments (README "CLI"); typer's
    # default was a boxed panel and exit 2, the code this CLI keeps for configuration. Caught where
    # click raises them: parsing the root's arguments, and invoking (which parses subcommands).
    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        with _usage_errors_in_one_line():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        with _usage_errors_in_one_line():
            return super().invoke(ctx)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
