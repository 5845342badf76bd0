from __future__ import annotations

import json
from pathlib import Path

import platformdirs
import pytest
from pydantic import ValidationError

import service.settings as settings_module
from agents.proposal import ActionKind, ApprovalClass
from graphs.policy_config import PolicyConfig
from service.settings import (
    Settings,
    is_postgres,
    load_settings,
    psycopg_url,
    redact_url,
    sqlalchemy_url,
    sqlite_path,
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("SPRINTPILOT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


def test_defaults_use_platform_data_dir_and_offline_model() -> None:
    s = load_settings()
    expected_dir = platformdirs.user_data_path("sprintpilot")
    assert s.data_dir == expected_dir
    assert s.db_url == f"sqlite:///{expected_dir / 'sprintpilot.db'}"
    assert sqlite_path(s) == expected_dir / "sprintpilot.db"
    assert not is_postgres(s)
    assert s.model == "offline"
    assert s.asana_base_url is None and s.asana_token is None
    assert s.approval_due_hours == 24
    assert s.redis_url == "redis://127.0.0.1:6379/0"
    assert s.allowed_workspaces == [] and s.allowed_projects == []
    assert s.timezone == "UTC"


def test_data_dir_moves_default_database(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path / "d")
    assert sqlite_path(s) == tmp_path / "d" / "sprintpilot.db"


def test_no_settings_instance_at_import() -> None:
    assert not any(isinstance(v, Settings) for v in vars(settings_module).values())


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://sp:pw@db:5432/sprintpilot",
        "postgresql+psycopg://sp:pw@db:5432/sprintpilot",
        "postgres://sp:pw@db:5432/sprintpilot",
    ],
)
def test_postgres_url_forms(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("SPRINTPILOT_DATABASE_URL", url)
    s = load_settings()
    assert is_postgres(s)
    assert sqlalchemy_url(s) == "postgresql+psycopg://sp:pw@db:5432/sprintpilot"
    assert psycopg_url(s) == "postgresql://sp:pw@db:5432/sprintpilot"


def test_sqlite_urls() -> None:
    assert sqlalchemy_url("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"
    assert sqlite_path("sqlite:////tmp/a.db") == Path("/tmp/a.db")
    assert sqlite_path("sqlite:///rel.db") == Path("rel.db")
    assert sqlite_path("sqlite://") is None
    with pytest.raises(ValueError):
        psycopg_url("sqlite:////tmp/a.db")


def test_rejects_bad_values() -> None:
    with pytest.raises(ValidationError):
        load_settings(database_url="mysql://x/y")
    with pytest.raises(ValidationError):
        load_settings(model="anthropic:claude")
    with pytest.raises(ValidationError):
        load_settings(model="openai-compatible")  # needs model_base_url
    with pytest.raises(ValidationError):
        load_settings(timezone="Mars/Olympus")
    ok = load_settings(model="openai-compatible:llama3", model_base_url="http://localhost:8000/v1")
    assert ok.model_base_url == "http://localhost:8000/v1"
    assert load_settings(model="openai:gpt-4o-mini").model == "openai:gpt-4o-mini"


def test_lists_from_env_json_or_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPRINTPILOT_ALLOWED_WORKSPACES", "111, 222")
    monkeypatch.setenv("SPRINTPILOT_ALLOWED_PROJECTS", '["333", "444"]')
    s = load_settings()
    assert s.allowed_workspaces == ["111", "222"]
    assert s.allowed_projects == ["333", "444"]


def _class_of(cfg: PolicyConfig, kind: ActionKind) -> ApprovalClass:
    if kind in cfg.denied_kinds:
        return ApprovalClass.DENIED
    return ApprovalClass.AUTO if kind in cfg.auto_kinds else ApprovalClass.NEEDS_APPROVAL


def test_default_policy_follows_architecture() -> None:
    cfg = load_settings().approval_policy.to_policy_config()
    assert _class_of(cfg, ActionKind.POST_COMMENT) is ApprovalClass.AUTO
    assert _class_of(cfg, ActionKind.POST_STATUS_UPDATE) is ApprovalClass.AUTO
    for kind in (
        ActionKind.UPDATE_TASK,
        ActionKind.CREATE_PROJECT,
        ActionKind.ADD_TO_SECTION,
        ActionKind.ADD_DEPENDENCY,
        ActionKind.REMOVE_DEPENDENCY,
        ActionKind.SET_CUSTOM_FIELD,
    ):
        assert _class_of(cfg, kind) is ApprovalClass.NEEDS_APPROVAL, kind
    # AI-suggestion fields are auto; any other custom field (e.g. Sprint) needs a human.
    assert cfg.is_auto_field("Risk Score")
    assert not cfg.is_auto_field("Sprint")


def test_policy_converts_to_the_graphs_policy_config() -> None:
    policy = load_settings(
        approval_policy={
            "kinds": {"create_project": "denied"},
            "workspaces": {"9": {"post_comment": "needs_approval"}},
        }
    ).approval_policy
    cfg = policy.to_policy_config()
    assert ActionKind.POST_COMMENT in cfg.auto_kinds and ActionKind.UPDATE_TASK not in cfg.auto_kinds
    assert cfg.denied_kinds == frozenset({ActionKind.CREATE_PROJECT})
    assert cfg.is_auto_field("risk score")
    assert ActionKind.POST_COMMENT not in policy.to_policy_config("9").auto_kinds


def test_policy_override_from_json_env_merges_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "SPRINTPILOT_APPROVAL_POLICY",
        json.dumps(
            {
                "kinds": {"post_comment": "needs_approval", "attach_file": "denied"},
                "workspaces": {"999": {"update_task": "auto"}},
            }
        ),
    )
    policy = load_settings().approval_policy
    cfg = policy.to_policy_config()
    assert _class_of(cfg, ActionKind.POST_COMMENT) is ApprovalClass.NEEDS_APPROVAL
    assert _class_of(cfg, ActionKind.ATTACH_FILE) is ApprovalClass.DENIED
    # Kinds not mentioned keep their defaults.
    assert _class_of(cfg, ActionKind.POST_STATUS_UPDATE) is ApprovalClass.AUTO
    assert _class_of(cfg, ActionKind.UPDATE_TASK) is ApprovalClass.NEEDS_APPROVAL
    assert _class_of(policy.to_policy_config("999"), ActionKind.UPDATE_TASK) is ApprovalClass.AUTO


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / "custom.env"
    env.write_text("SPRINTPILOT_APPROVER=po@example.com\nSPRINTPILOT_APPROVAL_DUE_HOURS=48\n")
    s = load_settings(_env_file=env)
    assert s.approver == "po@example.com" and s.approval_due_hours == 48
    # Keyword overrides beat the environment and the file.
    assert load_settings(_env_file=env, approval_due_hours=6).approval_due_hours == 6


def test_secrets_never_in_repr_or_redacted_view(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPRINTPILOT_ASANA_TOKEN", "2/asana-secret-pat")
    monkeypatch.setenv("SPRINTPILOT_MODEL_API_KEY", "sk-openai-secret")
    monkeypatch.setenv("SPRINTPILOT_API_TOKEN", "api-secret-token")
    monkeypatch.setenv("SPRINTPILOT_DATABASE_URL", "postgresql://sp:db-secret-pw@db/sp")
    monkeypatch.setenv("SPRINTPILOT_REDIS_URL", "redis://:redis-secret-pw@cache:6379/0")
    s = load_settings()
    assert s.asana_token is not None and s.asana_token.get_secret_value() == "2/asana-secret-pat"
    for text in (repr(s), str(s), json.dumps(s.redacted())):
        for secret in (
            "asana-secret-pat",
            "sk-openai-secret",
            "api-secret-token",
            "db-secret-pw",
            "redis-secret-pw",
        ):
            assert secret not in text
    assert s.redacted()["database_url"] == "postgresql://sp:***@db/sp"
    assert redact_url("postgresql://db/sp") == "postgresql://db/sp"
