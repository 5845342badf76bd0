"""Runtime configuration, read from `SPRINTPILOT_*` environment variables (and an optional `.env`).

Nothing here runs at import time: callers build a `Settings` with `load_settings()` at their
composition root, so tests and CLI flags can override any field without touching the process
environment. Secrets are `SecretStr`, and URLs that may carry passwords are kept out of `repr`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from agents.proposal import ActionKind, ApprovalClass
from tools.asana.field_names import HEALTH
from tools.errors import ConfigError
from tools.paths import system_directory_problem

if TYPE_CHECKING:
    from graphs.policy_config import PolicyConfig

APP_NAME = "sprintpilot"


def _default_action_classes() -> dict[ActionKind, ApprovalClass]:
    """Each action kind's default class, as its spec in graphs/kinds/ declares it (one place)."""
    # Imported here so settings stay importable without loading graph code.
    from graphs.kinds import default_classes

    return default_classes()


def _default_auto_fields() -> list[str]:
    from graphs.policy_config import DEFAULT_AUTO_FIELDS

    return sorted(DEFAULT_AUTO_FIELDS)


class ApprovalPolicy(BaseModel):
    """Approval class per action kind, with optional per-workspace overrides.

    A partial `kinds` mapping (e.g. from `SPRINTPILOT_APPROVAL_POLICY='{"kinds":{"post_comment":
    "needs_approval"}}'`) is merged over the defaults, so overriding one kind never un-gates others.
    """

    kinds: dict[ActionKind, ApprovalClass] = Field(default_factory=_default_action_classes)
    auto_custom_fields: list[str] = Field(default_factory=_default_auto_fields)
    workspaces: dict[str, dict[ActionKind, ApprovalClass]] = Field(default_factory=dict)
    # The portfolio custom field the health agent writes on each project (auto class).
    health_field: str = Field(default=HEALTH, min_length=1)
    # Automatic writes per project per day before the rest are held back (null: no limit).
    daily_write_budget: int | None = Field(default=150, ge=0)
    # The portfolio where the stand-up and the dependency manager keep every team's open blockers
    # (tools/standup/blockers_portfolio.py); null: not kept. `SPRINTPILOT_BLOCKERS_PORTFOLIO` sets it.
    blockers_portfolio: str | None = Field(default=None, max_length=200)

    @field_validator("blockers_portfolio", mode="before")
    @classmethod
    def _blockers_name(cls, value: Any) -> Any:
        return blockers_portfolio_name(value)

    @field_validator("kinds", mode="after")
    @classmethod
    def _merge_defaults(cls, value: dict[ActionKind, ApprovalClass]) -> dict[ActionKind, ApprovalClass]:
        return {**_default_action_classes(), **value}

    def to_policy_config(self, workspace_gid: str | None = None) -> PolicyConfig:
        """The graphs' policy input for one workspace (its overrides applied)."""
        # Imported here so settings stay importable without loading graph code.
        from graphs.policy_config import PolicyConfig

        classes = {**self.kinds, **self.workspaces.get(workspace_gid or "", {})}
        return PolicyConfig(
            auto_kinds=frozenset(k for k, c in classes.items() if c is ApprovalClass.AUTO),
            denied_kinds=frozenset(k for k, c in classes.items() if c is ApprovalClass.DENIED),
            auto_custom_fields=frozenset(self.auto_custom_fields),
            health_field=self.health_field,
            daily_write_budget=self.daily_write_budget,
            blockers_portfolio=self.blockers_portfolio,
        )


_POSTGRES_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg"}

DEFAULT_BLOCKERS_PORTFOLIO = "Blockers"


def blockers_portfolio_name(value: Any) -> Any:
    """The Blockers portfolio's name from a setting: a name; "on"/"true"/"1" → "Blockers";
    unset, empty or "off"/"false"/"0" → None (not kept)."""
    if value is None or isinstance(value, bool):
        return DEFAULT_BLOCKERS_PORTFOLIO if value else None
    if isinstance(value, str):
        text = value.strip()
        if text.casefold() in {"", "off", "false", "0", "no", "none"}:
            return None
        if text.casefold() in {"on", "true", "1", "yes"}:
            return DEFAULT_BLOCKERS_PORTFOLIO
        return text
    return value


def _default_data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SPRINTPILOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
        # `SPRINTPILOT_X=` (an .env template's blank line) reads as unset, for every setting.
        env_ignore_empty=True,
    )

    # Asana: no base URL means "use the in-process sandbox".
    asana_base_url: str | None = None
    asana_token: SecretStr | None = None
    # How the service authenticates to Asana: a personal access token (`asana_token`), or the stored
    # OAuth token of the user who ran `sprintpilot auth login` (the service account).
    asana_auth: Literal["pat", "oauth"] = "pat"
    # An Asana OAuth app (developer console, "My apps"); the redirect URL must be registered there.
    oauth_client_id: str | None = None
    oauth_client_secret: SecretStr | None = None
    oauth_redirect_uri: str = "http://127.0.0.1:8000/oauth/callback"  # `sprintpilot serve`'s callback
    oauth_authorize_url: str = "https://app.asana.com/-/oauth_authorize"
    oauth_token_url: str = "https://app.asana.com/-/oauth_token"
    oauth_revoke_url: str | None = None  # None: beside the token URL (`/-/oauth_revoke`)
    # Fernet key that encrypts stored OAuth tokens; without it no token is ever stored.
    token_key: SecretStr | None = None

    data_dir: Path = Field(default_factory=_default_data_dir)
    # None is resolved to a SQLite file under data_dir; kept out of repr since it may hold a password.
    database_url: str | None = Field(default=None, repr=False)
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", repr=False)
    checkpoint_pool_max_size: int = Field(default=4, ge=1, le=64)
    # Server-side prepared statements for the webhook receiver's inbox insert (half its Postgres
    # CPU per delivery); off behind a pooler that cannot keep them (PgBouncer < 1.21, transaction mode).
    db_prepare: bool = True

    model: str = "offline"
    model_api_key: SecretStr | None = None
    model_base_url: str | None = None
    # Bounds on every model call: seconds per request (connect, and each read of the answer) and
    # the openai client's retries; then consecutive failed calls in one run before the rest of
    # that run is written offline (the per-run breaker).
    model_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    model_max_retries: int = Field(default=2, ge=0, le=10)
    model_breaker_failures: int = Field(default=3, ge=1, le=100)

    allowed_workspaces: Annotated[list[str], NoDecode] = Field(default_factory=list)
    allowed_projects: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Projects whose new tasks are form requests (gids or names; `SPRINTPILOT_INTAKE_PROJECTS`,
    # comma list): each is triaged on arrival against the backlogs (service/events/routes_intake.py).
    intake_projects: Annotated[list[str], NoDecode] = Field(default_factory=list)
    approval_policy: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    approver: str | None = None
    # Who may decide (Asana gids or emails). Empty: the approval task's assignee decides in Asana.
    approvers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    approval_due_hours: int = Field(default=24, ge=1)
    # How long what a person can see in Asana is trusted before it is read again (membership and
    # privacy events drop it earlier).
    visibility_ttl_s: float = Field(default=60.0, ge=0, le=3600)

    api_token: SecretStr | None = None
    # Proxies (IPs or CIDRs) whose X-Forwarded-For names the real client; nobody else's is read.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Signs the audit chain's head (keep it outside the database). Unset: the embedded SQLite
    # default keeps a generated key file beside its database; a Postgres head stays unsigned.
    audit_key: SecretStr | None = None
    timezone: str = "UTC"
    # The MCP server (service/mcp): approving over MCP is off unless set (then approvers' rules and
    # an elicited confirmation apply); tool calls per minute per MCP session; the URL `serve` is
    # reached at (console links in proposal answers, the /mcp resource URL for OAuth metadata).
    mcp_approvals: bool = False
    mcp_calls_per_minute: int = Field(default=60, ge=1, le=10_000)
    public_url: str = "http://127.0.0.1:8000"
    # Keep a Blockers portfolio current (its name, or "on" for "Blockers"; "off": not kept). On by
    # default: nothing is created until someone approves the first blocker's proposal. Fills
    # `approval_policy.blockers_portfolio` unless that names one itself.
    blockers_portfolio: str | None = Field(default=DEFAULT_BLOCKERS_PORTFOLIO, max_length=200)
    # The portfolio the daily scorecard job scores and posts to once a month (unset: no job).
    scorecard_portfolio: str | None = Field(default=None, max_length=200)
    # Ceremony times per ceremony, merged over the defaults (tools/ceremonies/times.py), e.g.
    # `{"review": {"at": "13:00", "minutes": 45}}`; local times in `timezone`. And whether the
    # ceremony task gets a reminder comment on the working day before.
    ceremony_times: dict[str, dict[str, Any]] = Field(default_factory=dict)
    ceremony_reminders: bool = True

    @field_validator("ceremony_times")
    @classmethod
    def _check_ceremony_times(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from tools.ceremonies.times import CeremonyTimes

        CeremonyTimes.model_validate(value)
        return value

    @field_validator(
        "allowed_workspaces",
        "allowed_projects",
        "approvers",
        "trusted_proxies",
        "intake_projects",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        # Accept both JSON lists and the friendlier "gid1,gid2" form in the environment.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("blockers_portfolio", mode="before")
    @classmethod
    def _blockers_name(cls, value: Any) -> Any:
        return blockers_portfolio_name(value)

    @field_validator("asana_base_url", "model_base_url", "public_url")
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        # Refused here: a bare host name failed each request later, after a urllib3 warning.
        if not value:
            return value  # unset (an empty variable reads as unset, as before)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"needs an http:// or https:// URL, got {redact_url(value)!r}")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        # A bad entry would fail every API request that reads the client's address.
        import ipaddress

        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str) -> str:
        # Checked here, not at the worker's first connection minutes later.
        scheme = urlsplit(value).scheme
        if scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"needs a redis://, rediss:// or unix:// URL, got {redact_url(value)!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown timezone {value!r}") from err
        return value

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str) -> str:
        if value == "offline" or value == "openai-compatible":
            return value
        provider, _, name = value.partition(":")
        if provider in {"openai", "openai-compatible"} and name:
            return value
        raise ValueError("model must be 'offline', 'openai:<model>' or 'openai-compatible[:<model>]'")

    @field_validator("data_dir")
    @classmethod
    def _check_data_dir(cls, value: Path) -> Path:
        # Up front, before anything creates a database, key or state file in it (`--data-dir /etc`);
        # from the path's text only, since settings load on the Agent Server's event loop too. The
        # file-system checks (a file, not writable, a symlink into /etc) run in open_runtime.
        problem = system_directory_problem(value)
        if problem is not None:
            raise ValueError(f"data directory {problem} (--data-dir or SPRINTPILOT_DATA_DIR)")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme = urlsplit(value).scheme
        if scheme in _POSTGRES_SCHEMES or scheme == "sqlite" or scheme.startswith("sqlite+"):
            return value
        raise ValueError(f"unsupported database URL scheme {scheme!r} (use sqlite:/// or postgresql://)")

    @model_validator(mode="after")
    def _resolve(self) -> Settings:
        if self.database_url is None:
            self.database_url = f"sqlite:///{self.data_dir / 'sprintpilot.db'}"
        if self.model.startswith("openai-compatible") and not self.model_base_url:
            raise ValueError("model 'openai-compatible' needs model_base_url")
        if self.blockers_portfolio and self.approval_policy.blockers_portfolio is None:
            self.approval_policy = self.approval_policy.model_copy(
                update={"blockers_portfolio": self.blockers_portfolio}
            )
        return self

    @property
    def oauth_revoke_endpoint(self) -> str:
        """`oauth_revoke_url`, or the token URL's sibling `/-/oauth_revoke` (Asana's layout)."""
        if self.oauth_revoke_url:
            return self.oauth_revoke_url
        return self.oauth_token_url.rsplit("/", 1)[0] + "/oauth_revoke"

    @property
    def db_url(self) -> str:
        """`database_url` after defaulting (never None once validated)."""
        assert self.database_url is not None
        return self.database_url

    def redacted(self) -> dict[str, Any]:
        """A log-safe view: secrets masked, passwords stripped from URLs."""
        data = self.model_dump(mode="json")
        data["database_url"] = redact_url(self.db_url)
        data["redis_url"] = redact_url(self.redis_url)
        for key in ("asana_token", "model_api_key", "api_token", "oauth_client_secret", "token_key"):
            data[key] = "**********" if getattr(self, key) is not None else None
        return data


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment (and `.env`), with keyword overrides taking precedence.
    A structured setting (JSON) that does not parse is a ConfigError naming its variable:
    pydantic-settings raises it before validation, as a SettingsError the CLI would not recognise."""
    try:
        return Settings(**overrides)
    except SettingsError as err:
        raise ConfigError(_unparsable(err)) from None


def _unparsable(err: SettingsError) -> str:
    found = re.search(r'field "([a-z0-9_]+)"', str(err))
    variable = f"SPRINTPILOT_{found.group(1).upper()}" if found else "a SPRINTPILOT_* setting"
    cause = f" ({' '.join(str(err.__cause__).split())})" if err.__cause__ else ""
    return f"{variable} is not valid JSON{cause}"


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username}:***@{host}" if parts.username else f"***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _url_of(settings_or_url: Settings | str) -> str:
    return settings_or_url if isinstance(settings_or_url, str) else settings_or_url.db_url


def is_postgres(settings_or_url: Settings | str) -> bool:
    return urlsplit(_url_of(settings_or_url)).scheme in _POSTGRES_SCHEMES


def _with_scheme(url: str, scheme: str) -> str:
    return scheme + url[url.index("://") :]


def sqlalchemy_url(settings_or_url: Settings | str) -> str:
    """The URL for SQLAlchemy: Postgres always through the psycopg 3 driver."""
    url = _url_of(settings_or_url)
    return _with_scheme(url, "postgresql+psycopg") if is_postgres(url) else url


def psycopg_url(settings_or_url: Settings | str) -> str:
    """A plain libpq URL (`postgresql://`) for psycopg and langgraph's PostgresSaver."""
    url = _url_of(settings_or_url)
    if not is_postgres(url):
        raise ValueError("psycopg_url() needs a Postgres database URL")
    return _with_scheme(url, "postgresql")


def sqlite_path(settings_or_url: Settings | str) -> Path | None:
    """The file behind a SQLite URL, or None for an in-memory database."""
    url = _url_of(settings_or_url)
    if is_postgres(url):
        raise ValueError("sqlite_path() needs a SQLite database URL")
    path = url.split("://", 1)[1]
    # sqlite:///rel.db -> "/rel.db" after the scheme; sqlite:////abs.db -> "//abs.db".
    path = path[1:] if path.startswith("/") else path
    path = path.split("?", 1)[0]
    if path in ("", ":memory:"):
        return None
    return Path(path)
