"""Turn the errors a user can cause into one clear line and exit code 1 — never a traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

err_console = Console(stderr=True)


def _expected_errors() -> tuple[type[BaseException], ...]:
    from graphs.registry import UnknownSpecialist
    from graphs.runner import NothingPending, ThreadBusy
    from service.approvals import ApprovalError
    from service.runtime import ConfigError
    from tools.asana.errors import AsanaError
    from tools.planning.scoring import FormulaError

    return (
        AsanaError,
        ApprovalError,
        ConfigError,
        FormulaError,
        NothingPending,
        ThreadBusy,
        UnknownSpecialist,
        ValidationError,
        ValueError,
        FileNotFoundError,
        PermissionError,
    )


def friendly(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except _expected_errors() as err:
            err_console.print(f"[bold red]error:[/] {_describe(err)}")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _describe(err: BaseException) -> str:
    if isinstance(err, ValidationError):
        parts = []
        for e in err.errors():
            loc = ".".join(str(x) for x in e.get("loc", ()))
            parts.append(f"{loc}: {e.get('msg')}" if loc else str(e.get("msg")))
        return "invalid input — " + "; ".join(parts)
    return str(err) or err.__class__.__name__
