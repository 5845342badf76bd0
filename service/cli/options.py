"""Parsers for option values that typer cannot check itself, failing as one-line user errors."""

from __future__ import annotations

from datetime import date

from tools.errors import ConfigError, UserError


def date_option(value: str | None, flag: str) -> date | None:
    """`YYYY-MM-DD` from an option, None when not given; a UserError naming the flag otherwise."""
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"{flag} must be a date like 2026-12-31, got {value!r}") from None


MAX_PORT = 65535


def ensure_port_free(host: str, port: int, flag: str = "--port") -> None:
    """Refuse, as one line, a TCP port that cannot be listened on (checked before anything starts,
    so the server's own bind error, with its log lines, never shows); 0 means any free port."""
    problem = port_problem(host, port, flag)
    if problem is not None:
        raise UserError(problem)


def free_port(host: str) -> int:
    """A port the system has free on `host` now (`--port 0`: any free port)."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_problem(host: str, port: int, flag: str = "--port") -> str | None:
    """Why `host:port` cannot be listened on (in use, not allowed, unknown host), or None."""
    import errno
    import socket

    if not 0 <= port <= MAX_PORT:
        # Checked here: getaddrinfo wraps a larger number silently (99999 listened on 34463).
        return f"{flag} must be a TCP port from 0 to {MAX_PORT}, got {port}"
    if port == 0:
        return None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        return f"cannot listen on {host}: {err.strerror}; check --host"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        # The server sets SO_REUSEADDR too: a port in TIME_WAIT is free, one in LISTEN is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is in use; pick another with {flag}"
            return f"cannot listen on port {port} on {host} ({err.strerror or err}); pick another with {flag}"
    return None


def timezone_option(value: str, flag: str = "--timezone") -> str:
    """An IANA time zone name, else a ConfigError (exit 2, like SPRINTPILOT_TIMEZONE): the team's
    time zone is configuration that the flag overrides for one run."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{flag}: unknown time zone {value!r}; use an IANA name like Europe/Paris"
        ) from None
    return value
