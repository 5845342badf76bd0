"""Turn the errors a user can cause into one clear line and an exit code — never a traceback.

What counts as "caused by the user": the product's own `SprintpilotError` family (a `UserError`
exits with its `exit_code`, 2 for configuration; anything else in the family with 1), pydantic's
`ValidationError` (bad option values; invalid `SPRINTPILOT_*` settings exit 2, naming the variable),
and OS errors on paths the user gave. A plain ValueError is
a bug and keeps its traceback: option values typer cannot check are parsed by `service.cli.options`,
which raises a UserError naming the flag.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from tools.errors import ConfigError, SprintpilotError, UserError

P = ParamSpec("P")
R = TypeVar("R")

err_console = Console(stderr=True)

# pydantic's ValidationError is expected too (`_expected`); pydantic is imported only when an
# error is being reported, so `--help` does not pay for it.
EXPECTED: tuple[type[BaseException], ...] = (
    SprintpilotError,
    FileNotFoundError,
    PermissionError,
    IsADirectoryError,
)


def _validation_error() -> type[BaseException]:
    from pydantic import ValidationError

    return ValidationError


def is_expected(err: BaseException) -> bool:
    return isinstance(err, (*EXPECTED, _validation_error()))


INTERRUPTED = (
    "[bold red]interrupted:[/] what was applied is kept; "
    "`sprintpilot approvals resume` finishes approved work that stopped part-way"
)
# An eval writes nothing that needs resuming (its sandboxes are its own).
INTERRUPTED_READ_ONLY = "[bold red]interrupted:[/] nothing was written; run it again to start over"


def friendly(fn: Callable[P, R]) -> Callable[P, R]:
    return _friendly(fn, INTERRUPTED)


def friendly_read_only(fn: Callable[P, R]) -> Callable[P, R]:
    """`friendly` for commands that write nothing to resume (the evals)."""
    return _friendly(fn, INTERRUPTED_READ_ONLY)


def _friendly(fn: Callable[P, R], interrupted: str) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            # Every write is ledgered before it is made, so stopping here loses nothing.
            err_console.print(interrupted, soft_wrap=True)
            raise typer.Exit(130) from None
        except Exception as err:
            if not is_expected(err):
                raise
            report(err)
            raise typer.Exit(exit_code(err)) from None

    return wrapper


def report(err: BaseException) -> None:
    """One line on stderr (soft wrap: a long message is not broken over several lines)."""
    report_message(describe(err))


def report_message(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {escape(' '.join(message.split()))}", soft_wrap=True)


def exit_code(err: BaseException) -> int:
    if _is_settings_error(err):
        return ConfigError.exit_code
    return err.exit_code if isinstance(err, UserError) else 1


def _is_settings_error(err: BaseException) -> bool:
    """Settings that fail validation (SPRINTPILOT_* variables, `.env`) are configuration: exit 2."""
    from pydantic import ValidationError

    return isinstance(err, ValidationError) and err.title == "Settings"


def describe(err: BaseException) -> str:
    from pydantic import ValidationError

    if isinstance(err, ValidationError):
        settings = _is_settings_error(err)
        parts = []
        for e in err.errors():
            loc = ".".join(str(x) for x in e.get("loc", ()))
            if settings and loc:
                loc = f"SPRINTPILOT_{loc.upper()}"
            msg = str(e.get("msg")).removeprefix("Value error, ")
            parts.append(f"{loc}: {msg}" if loc else msg)
        return ("invalid settings — " if settings else "invalid input — ") + "; ".join(parts)
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f"{err.filename}: {err.strerror}"  # not Python's "[Errno 2] ... : '/path'"
    return " ".join(str(err).split()) or err.__class__.__name__
