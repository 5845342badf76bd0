"""The sandbox's fixtures (a tiny workspace, a running server, an httpx client) for the goal tests."""

from tests.sandbox.conftest import http, mini, server  # noqa: F401 - fixtures
