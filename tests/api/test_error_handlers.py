"""The product's errors leave the API as `{"error": message}` with the status their class says."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from graphs.registry import UnknownSpecialist
from graphs.runner import ThreadBusy
from service.api.errors import ApiError, install_error_handlers
from service.approvals import ApprovalError
from tools.asana.errors import NotFound, RateLimited, ServerError
from tools.errors import ConfigError, SprintpilotError, UserError

ERRORS: dict[str, Exception] = {
    "user": UserError("capacity must be a finite number"),
    "approval": ApprovalError("no proposal 'abc'; see `sprintpilot approvals list`"),
    "unknown": UnknownSpecialist("nope", ["planner"]),
    "busy": ThreadBusy("thread t1 already has a run"),
    "config": ConfigError("SPRINTPILOT_ASANA_TOKEN is not set"),
    "asana404": NotFound(404, "no such task", "GET", "/tasks/1"),
    "asana5xx": ServerError(503, "try later", "GET", "/tasks"),
    "throttled": RateLimited(429, "slow down", "GET", "/tasks", retry_after=2.5),
    "ours": SprintpilotError("prompt 'plan' is missing variables: risks"),
    "api": ApiError(413, "body larger than 10 bytes"),
    "bug": ValueError("a bug"),
}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/fail/{name}")
    def fail(name: str) -> None:
        raise ERRORS[name]

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        ("user", 400, "capacity must be a finite number"),
        ("approval", 400, "no proposal 'abc'; see `sprintpilot approvals list`"),
        ("unknown", 404, "unknown agent 'nope'; available: planner"),
        ("busy", 409, "thread t1 already has a run"),
        ("config", 503, "SPRINTPILOT_ASANA_TOKEN is not set"),
        ("asana404", 502, "GET /tasks/1 (404): no such task"),  # Asana's 404 is upstream, not ours
        ("asana5xx", 502, "GET /tasks (503): try later"),
        ("ours", 500, "internal error"),  # not the client's fault: no details
        ("api", 413, "body larger than 10 bytes"),
        ("bug", 500, "internal error"),
    ],
)
def test_status_and_body(client: TestClient, name: str, status: int, message: str) -> None:
    answer = client.get(f"/fail/{name}")
    assert answer.status_code == status
    assert answer.json() == {"error": message}


def test_rate_limit_passes_retry_after(client: TestClient) -> None:
    answer = client.get("/fail/throttled")
    assert answer.status_code == 502
    assert answer.headers["Retry-After"] == "3"
