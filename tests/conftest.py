"""Shared fixtures: real services for integration tests.

Under CI (CI=true) a missing service fails the test instead of skipping it, so a green CI
always means the integration tier really ran.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

PG_ADMIN_URL = os.environ.get("SPRINTPILOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
_REDIS = os.environ.get("SPRINTPILOT_TEST_REDIS", "redis://127.0.0.1:6379/15")
# `make test` runs two pytest-xdist workers: each its own Redis DB (15, 14), so tests that count or
# delete shared keys do not see the other worker's (tests/worker/test_shared_limits.py has DB 12).
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
REDIS_URL = f"{_REDIS.rsplit('/', 1)[0]}/{int(_REDIS.rsplit('/', 1)[1]) - _WORKER}" if _WORKER < 3 else _REDIS
_COLUMNS_KEY = "SPRINTPILOT_TEST_COLUMNS"


def pytest_configure(config: pytest.Config) -> None:
    """xdist starts its workers with COLUMNS=80 and LINES=24; a test of output width needs the
    terminal settings `make test` was started with, so the controller hands them on."""
    if not hasattr(config, "workerinput"):
        os.environ[_COLUMNS_KEY] = json.dumps([os.environ.get("COLUMNS"), os.environ.get("LINES")])
        return
    handed = os.environ.get(_COLUMNS_KEY)
    if handed:
        for name, value in zip(("COLUMNS", "LINES"), json.loads(handed), strict=True):
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _missing(service: str, err: Exception) -> None:
    msg = f"{service} is not reachable ({err}); start it (see .ci/run)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("select 1")
    except Exception as err:  # noqa: BLE001 - any failure means "not available"
        _missing("PostgreSQL", err)
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty Postgres database for one test (psycopg URL form), dropped afterwards."""
    name = f"sp_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = pg_admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_db_url() -> str:
    """This worker's Redis DB (not checked: for settings that only name it)."""
    return REDIS_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as err:  # noqa: BLE001
        _missing("Redis", err)
    return REDIS_URL


@pytest.fixture(scope="session", autouse=True)
def _blockers_portfolio_off() -> Iterator[None]:
    """The product keeps the Blockers portfolio by default. Tests that are not about it run with it
    off (session-wide, so subprocess workers and servers inherit it), so their proposals and write
    counts stay about what they test; tests/standup/test_blockers_portfolio.py turns it on,
    including its product default (`test_on_by_default_the_first_blocker_waits_for_approval`)."""
    before = os.environ.get("SPRINTPILOT_BLOCKERS_PORTFOLIO")
    os.environ["SPRINTPILOT_BLOCKERS_PORTFOLIO"] = "off"
    yield
    if before is None:
        os.environ.pop("SPRINTPILOT_BLOCKERS_PORTFOLIO", None)
    else:
        os.environ["SPRINTPILOT_BLOCKERS_PORTFOLIO"] = before


# Settings that point a run at real services or change its policy; tests of the embedded default
# start without them (a developer's shell may have any of them set).
OFFLINE_UNSET = (
    "SPRINTPILOT_ASANA_BASE_URL",
    "SPRINTPILOT_ASANA_TOKEN",
    "SPRINTPILOT_DATABASE_URL",
    "SPRINTPILOT_MODEL",
    "SPRINTPILOT_APPROVAL_POLICY",
    "SPRINTPILOT_APPROVER",
    "SPRINTPILOT_APPROVERS",
    "SPRINTPILOT_TIMEZONE",
)


@pytest.fixture
def offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded default: sandbox, SQLite, offline engine, default policy."""
    for var in OFFLINE_UNSET:
        monkeypatch.delenv(var, raising=False)
