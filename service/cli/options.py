"""Parsers for option values that typer cannot check itself, failing as one-line user errors."""

from __future__ import annotations

from datetime import date

from tools.errors import UserError


def date_option(value: str | None, flag: str) -> date | None:
    """`YYYY-MM-DD` from an option, None when not given; a UserError naming the flag otherwise."""
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"{flag} must be a date like 2026-12-31, got {value!r}") from None
