"""Alembic environment, configured entirely in code by `service.db.migrate` (no alembic.ini, no cwd).

`migrate()` hands over an open connection in `config.attributes["connection"]`; the alembic CLI
can still be used with `-x url=...` or `SPRINTPILOT_DATABASE_URL`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from service.db.engine import make_engine
from service.db.models import Base
from service.settings import load_settings

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables when needed.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or load_settings().db_url
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
