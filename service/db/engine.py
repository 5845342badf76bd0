"""Engine construction and transaction helpers shared by the repositories.

SQLite: WAL (readers don't block the writer), foreign keys on, a busy timeout, and write
transactions opened with `BEGIN IMMEDIATE` so two writers queue on the lock instead of failing
when a deferred read transaction tries to upgrade. Postgres: psycopg 3, pre-ping, small pool,
no server-side prepared statements (safe behind pgbouncer in transaction mode).
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import URL, Connection, Engine, create_engine, event, exc, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry

from service.db.text import clean_parameters, json_dumps
from service.settings import Settings, is_postgres, sqlalchemy_url, sqlite_path
from tools.errors import ConfigError

SQLITE_BUSY_TIMEOUT_S = 30.0
_IMMEDIATE = "sprintpilot_begin_immediate"


def make_engine(settings_or_url: Settings | str, *, echo: bool = False, pre_ping: bool = True) -> Engine:
    """An engine for the app database; creates the SQLite file's folder if needed.

    `pre_ping=False` (Postgres): no liveness round trip per checkout, for a caller that retries
    a statement whose connection turned out dead (the webhook receiver's idempotent insert)."""
    url = sqlalchemy_url(settings_or_url)
    if is_postgres(url):
        engine = create_engine(
            url,
            echo=echo,
            pool_size=5,
            max_overflow=5,
            pool_pre_ping=pre_ping,
            pool_recycle=1800,
            connect_args={"prepare_threshold": None, "application_name": "sprintpilot"},
            json_serializer=json_dumps,
        )
    else:
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            json_serializer=json_dumps,
        )
        _configure_sqlite(engine)
    _guard_fork(engine)
    _clean_text(engine)
    key = audit_key(settings_or_url)
    if key is not None:
        from service.db.audit import AUDIT_KEY_OPTION

        engine.update_execution_options(**{AUDIT_KEY_OPTION: key})
    return engine


def audit_key(settings_or_url: Settings | str) -> bytes | None:
    """The key that signs the audit head: configured, else a key file beside an embedded SQLite
    database (created once, readable by its owner only), else none."""
    if not isinstance(settings_or_url, Settings):
        return None
    if settings_or_url.audit_key is not None:
        return settings_or_url.audit_key.get_secret_value().encode()
    if is_postgres(settings_or_url):
        return None
    path = sqlite_path(sqlalchemy_url(settings_or_url))
    if path is None:
        return None
    key_file = path.with_name(f"{path.stem}.audit.key")
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return key_file.read_text().strip().encode()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        assert isinstance(dbapi_conn, sqlite3.Connection)
        # Take transaction control away from pysqlite so we decide how BEGIN is issued.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _clean_text(engine: Engine) -> None:
    """Store no NUL or other control character (see `service.db.text`): Postgres refuses NUL, and
    one Asana task name holding it would otherwise stop every run that records it."""

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _clean(
        conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> tuple[str, Any]:
        return statement, clean_parameters(parameters)


def _guard_fork(engine: Engine) -> None:
    """Never reuse a pooled connection in a forked child (Celery prefork): invalidate it instead."""

    @event.listens_for(engine, "connect")
    def _remember_pid(dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        record.info["pid"] = os.getpid()

    @event.listens_for(engine, "checkout")
    def _check_pid(dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry, proxy: Any) -> None:
        if record.info.get("pid") != os.getpid():
            # Dropping the reference (not closing) leaves the parent's socket untouched.
            cast(Any, record).dbapi_connection = proxy.dbapi_connection = None
            raise exc.DisconnectionError("connection belongs to another process")


def writer(engine: Engine) -> Engine:
    """The engine view to use for write transactions (BEGIN IMMEDIATE on SQLite)."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{_IMMEDIATE: True})
    return engine


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One write transaction: commits on success, rolls back on any error."""
    with Session(writer(engine), expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def dialect_insert(session: Session) -> Any:
    """The backend's own INSERT construct, which offers ON CONFLICT on both Postgres and SQLite."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


_DB_MISSING = re.compile(r'database "([^"]+)" does not exist')
_ROLE_PROBLEM = re.compile(r'(role "[^"]+" does not exist|password authentication failed for user "[^"]+")')
_UNREACHABLE = ("connection refused", "could not connect", "failed to resolve host", "timeout expired")


def connection_problem(err: BaseException, url: URL | str | None = None) -> ConfigError | None:
    """The one-line ConfigError for a database that cannot be opened (it does not exist, the server
    is down, the role is refused), naming the database and what to do; None for any other error.

    `url`: the database's URL (the engine's), for the host, port and user of the advice; the
    password is never part of the message.
    """
    if not isinstance(err, exc.OperationalError | exc.InterfaceError):
        return None
    message = str(getattr(err, "orig", None) or err)
    parsed = make_url(url) if isinstance(url, str) else url
    host = f"{parsed.host or 'localhost'}:{parsed.port or 5432}" if parsed is not None else "the server"
    if parsed is not None and parsed.get_backend_name() == "sqlite":
        if "unable to open database file" in message:
            return ConfigError(
                f"cannot open the SQLite database {parsed.database}: check that its folder exists and "
                "is writable (SPRINTPILOT_DATABASE_URL or --data-dir)"
            )
        return None
    missing = _DB_MISSING.search(message)
    if missing:
        name = missing.group(1)
        user = f" -U {parsed.username}" if parsed is not None and parsed.username else ""
        where = f" -h {parsed.host} -p {parsed.port or 5432}" if parsed is not None and parsed.host else ""
        return ConfigError(
            f'database "{name}" does not exist on {host}: create it with `createdb{where}{user} {name}` '
            f'(or CREATE DATABASE "{name}"; in psql), then run `sprintpilot db migrate`'
        )
    refused = _ROLE_PROBLEM.search(message)
    if refused:
        return ConfigError(
            f"Postgres at {host} refused the login: {refused.group(1)}; check SPRINTPILOT_DATABASE_URL"
        )
    lowered = message.lower()
    if any(marker in lowered for marker in _UNREACHABLE):
        reason = " ".join(message.split("\n")[0].split())
        return ConfigError(
            f"cannot reach the database at {host} ({reason}): is Postgres running? "
            "check SPRINTPILOT_DATABASE_URL"
        )
    return None


@contextmanager
def connecting(engine: Engine) -> Iterator[None]:
    """Turn a database that cannot be opened into `connection_problem`'s ConfigError."""
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError) as err:
        problem = connection_problem(err, engine.url)
        if problem is None:
            raise
        raise problem from err
