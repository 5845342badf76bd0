"""Run the alembic migrations programmatically, from a source checkout or an installed package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select

from service.db.engine import connecting, make_engine, writer
from service.settings import Settings
from tools.errors import ConfigError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Fixed key so API, worker and beat starting together migrate one at a time on Postgres.
MIGRATION_LOCK_KEY = 0x5350_4D49_4752_4154  # "SPMIGRAT"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(target: Settings | str | Engine, revision: str = "head") -> str | None:
    """`alembic upgrade <revision>`; safe to call on every start. Returns the revision reached."""
    engine = target if isinstance(target, Engine) else make_engine(target)
    try:
        with connecting(engine), writer(engine).begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        return current_revision(engine)
    finally:
        if engine is not target:
            engine.dispose()


def downgrade(target: Settings | str | Engine, revision: str = "base") -> None:
    """For tests and development only: production data is never migrated down."""
    engine = target if isinstance(target, Engine) else make_engine(target)
    try:
        with writer(engine).begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
    finally:
        if engine is not target:
            engine.dispose()


def ensure_schema(engine: Engine) -> None:
    """Check, without migrating a shared database, that the schema is the one this code needs.

    Only `serve`, `db migrate` and worker start migrate (they run once per deploy, under the
    migration lock). A private SQLite file (the embedded default, or a test's) is created or
    upgraded here on first use, so `make demo` and every CLI command work with no setup step.
    """
    head = head_revision()
    with connecting(engine):
        current = current_revision(engine)
    if current == head:
        return
    if engine.dialect.name == "sqlite":
        migrate(engine)
        return
    raise ConfigError(
        f"the database schema is at revision {current or 'none'} but this version needs {head}: "
        "run `sprintpilot db migrate` (or start `sprintpilot serve` / the worker, which migrate)"
    )
