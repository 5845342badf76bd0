"""`CreateTaskParams`/`UpdateTaskParams` refuse the date combinations Asana refuses (issue 18)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from graphs.kinds.tasks import CreateTaskParams, UpdateTaskParams


def test_create_task_params_refuse_due_on_with_due_at() -> None:
    # asana_oas.yaml: paths./tasks.post, TaskBase.due_on: "should not be used together with `due_at`"
    with pytest.raises(ValidationError, match="not both"):
        CreateTaskParams.model_validate(
            {"name": "A", "due_on": "2026-12-01", "due_at": "2026-12-01T09:00:00Z"}
        )
    assert CreateTaskParams.model_validate({"name": "A", "due_on": "2026-12-01"}).due_on is not None


def test_update_task_params_refuse_start_on_alone_and_both_dues() -> None:
    # asana_oas.yaml: paths./tasks/{task_gid}.put, TaskBase.start_on: "`due_on` or `due_at` must be
    # present in the request when setting or unsetting the `start_on` parameter"
    with pytest.raises(ValidationError, match="start_on needs due_on or due_at"):
        UpdateTaskParams.model_validate({"start_on": "2026-12-01"})
    with pytest.raises(ValidationError, match="start_on needs due_on or due_at"):
        UpdateTaskParams.model_validate({"start_on": None})
    with pytest.raises(ValidationError, match="not both"):
        UpdateTaskParams.model_validate({"due_on": "2026-12-01", "due_at": "2026-12-01T09:00:00Z"})
    ok = UpdateTaskParams.model_validate({"start_on": "2026-12-01", "due_on": "2026-12-05"})
    assert set(ok.fields()) == {"start_on", "due_on"}
    cleared = UpdateTaskParams.model_validate({"due_on": None, "due_at": "2026-12-01T09:00:00Z"})
    assert set(cleared.fields()) == {"due_on", "due_at"}
