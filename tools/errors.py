"""The one error family every deliberate failure of the product belongs to.

The CLI (`service/cli/errors.py`) and the HTTP API (`service/api/errors.py`) turn these into one
line / one JSON answer; anything else that escapes is a bug and keeps its traceback. Classes that
were a ValueError, LookupError or RuntimeError before join the family by multiple inheritance, so
older `except ValueError` callers still work. This module imports nothing from the project: every
layer may use it.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConflictError",
    "NotFoundError",
    "SprintpilotError",
    "UpstreamError",
    "UserError",
]


class SprintpilotError(Exception):
    """Base of every error the product raises on purpose (not a bug); the message is for people."""

    http_status: int = 500
    exit_code: int = 1


class UserError(SprintpilotError):
    """Something the user can fix: bad input, an unknown name, nothing pending, a bad file."""

    http_status: int = 400
    exit_code: int = 1


class NotFoundError(UserError):
    """A thing the user named (proposal, agent, project, dataset...) does not exist."""

    http_status: int = 404


class ConflictError(UserError):
    """The request is valid but clashes with the current state (thread busy, already decided)."""

    http_status: int = 409


class ConfigError(UserError):
    """Settings that cannot work (missing token, bad model setting, optional extra not installed).

    HTTP 503, not 500: the server cannot serve this until an operator fixes its settings, which
    is not a bug (500) nor the client's fault (4xx); the message names the setting, never a secret.
    Exit code 2 tells scripts "fix the configuration" apart from "fix the arguments" (1).
    """

    http_status: int = 503
    exit_code: int = 2


class UpstreamError(SprintpilotError):
    """A service we call (Asana, its webhooks) failed or refused; the API answers 502."""

    http_status: int = 502
