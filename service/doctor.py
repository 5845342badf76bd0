"""`sprintpilot doctor`: can the agents work against the configured Asana? Checks, never writes.

Each check answers ok / warn / FAIL with a one-line detail and, unless ok, the fix. FAIL means an
agent cannot do its job (missing custom fields, a workspace the token cannot see, a database that
does not answer); warn means it works with a part skipped (free Asana plan, clock skew, no broker).
A token Asana refuses is not a check but a ConfigError: nothing else can be checked without it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Literal

import httpx

from tools.asana import field_names as fn
from tools.asana.errors import AsanaError, PaymentRequired
from tools.errors import ConfigError

if TYPE_CHECKING:
    from service.settings import Settings
    from tools.asana import AsanaClient

Status = Literal["ok", "warn", "FAIL"]
MAX_PROJECTS = 10  # projects checked per workspace when no allowed projects are configured
MAX_SKEW_S = 60.0

# The custom fields each agent reads or writes (agents/*), by field.
AGENT_FIELDS: dict[str, tuple[str, ...]] = {
    fn.STORY_POINTS: ("plan", "triage", "standup", "risk", "retro"),
    fn.PRIORITY: ("plan", "triage", "standup"),
    fn.BUSINESS_VALUE: ("plan", "triage"),
    fn.EFFORT: ("plan",),
    fn.SPRINT: ("plan",),
    fn.STATUS: ("plan", "triage", "standup", "risk", "retro", "health"),
    fn.AI_PRIORITY_SCORE: ("triage",),
    fn.AI_SUGGESTION: ("triage",),
    fn.ESTIMATED_STORY_POINTS: ("triage",),
    fn.RISK_SCORE: ("triage", "risk"),
    fn.IMPEDIMENTS: ("standup",),
}


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return asdict(self)


@dataclass(frozen=True)
class Identity:
    """What GET /users/me told us, read with a plain request for its Date header."""

    user: str
    skew_s: float | None


def whoami(base_url: str, token: str, *, now: datetime | None = None) -> Identity:
    """The token's user and the clock skew; ConfigError when Asana refuses the token."""
    try:
        response = httpx.get(
            f"{base_url.rstrip('/')}/users/me",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10.0,
        )
    except httpx.HTTPError as err:
        raise ConfigError(f"cannot reach Asana at {base_url}: {type(err).__name__}") from None
    if response.status_code == 401:
        raise ConfigError(
            f"Asana refused the token (401 Not Authorized) at {base_url}: set a valid SPRINTPILOT_ASANA_TOKEN"
        )
    if response.status_code != 200:
        raise ConfigError(f"GET /users/me answered {response.status_code} at {base_url}")
    data = response.json().get("data") or {}
    user = f"{data.get('name') or data.get('gid')}" + (f" <{data['email']}>" if data.get("email") else "")
    skew: float | None = None
    if "date" in response.headers:
        try:
            theirs = parsedate_to_datetime(response.headers["date"])
            skew = ((now or datetime.now(UTC)) - theirs).total_seconds()
        except (TypeError, ValueError):
            skew = None
    return Identity(user=user, skew_s=skew)


def clock_check(skew_s: float | None) -> Check:
    if skew_s is None:
        return Check("clock", "warn", "Asana sent no Date header; skew unknown")
    if abs(skew_s) > MAX_SKEW_S:
        return Check(
            "clock",
            "warn",
            f"local clock is {skew_s:+.0f} s off Asana's",
            "sync the system clock (NTP): due dates, stand-up days and approval expiry use it",
        )
    return Check("clock", "ok", f"{skew_s:+.0f} s off Asana's clock")


def workspace_check(asana: AsanaClient, allowed: list[str]) -> tuple[Check, list[tuple[str, str]]]:
    """The workspaces to check (gid, name) and whether every allowed one is visible."""
    seen = {w.gid: w.name or w.gid for w in asana.workspaces()}
    if not allowed:
        names = ", ".join(seen.values()) or "none"
        if not seen:
            return Check(
                "workspaces", "FAIL", "the token sees no workspace", "add the token's user to a workspace"
            ), []
        return Check(
            "workspaces", "ok", f"sees {names}; all allowed (SPRINTPILOT_ALLOWED_WORKSPACES unset)"
        ), list(seen.items())
    missing = [gid for gid in allowed if gid not in seen]
    usable = [(gid, seen[gid]) for gid in allowed if gid in seen]
    if missing:
        return (
            Check(
                "workspaces",
                "FAIL",
                f"allowed but not visible to the token: {', '.join(missing)}",
                "add the token's user to those workspaces, or fix SPRINTPILOT_ALLOWED_WORKSPACES",
            ),
            usable,
        )
    return Check("workspaces", "ok", f"allowed and visible: {', '.join(n for _, n in usable)}"), usable


def scopes_check(settings: Settings) -> Check:
    if settings.asana_base_url is None:
        return Check("token scopes", "ok", "skipped: embedded sandbox")
    if settings.asana_auth != "oauth":
        return Check("token scopes", "ok", "skipped: personal access token (acts as its user; no scopes)")
    # Asana has no token-introspection endpoint: a missing scope shows as a 403 in the reads below.
    return Check("token scopes", "ok", "OAuth: checked through the reads below (a missing scope answers 403)")


def field_checks(
    asana: AsanaClient, workspaces: list[tuple[str, str]], allowed_projects: list[str]
) -> tuple[list[Check], bool]:
    """One check per project missing fields (or one ok); a project holding none of sprintpilot's
    fields is not one of its boards and is only counted (unless explicitly allowed)."""
    checks: list[Check] = []
    wanted = list(AGENT_FIELDS)
    if allowed_projects:
        projects = [(gid, asana.project(gid).name or gid) for gid in allowed_projects]
        total = len(projects)
    else:
        projects = []
        total = 0
        for ws, _name in workspaces:
            listed = asana.projects(ws)
            total += len(listed)
            projects += [(p.gid, p.name or p.gid) for p in listed[:MAX_PROJECTS]]
    checked = skipped = 0
    for gid, name in projects:
        try:
            present = {(s.custom_field.name or "").casefold() for s in asana.custom_field_settings(gid)}
        except PaymentRequired:
            return [Check("custom fields", "warn", "the plan refuses custom field reads", None)], True
        missing = [f for f in wanted if f.casefold() not in present]
        if len(missing) == len(wanted) and not allowed_projects:
            skipped += 1
            continue
        checked += 1
        if missing:
            needs = sorted({a for f in missing for a in AGENT_FIELDS[f]})
            checks.append(
                Check(
                    f"fields: {name}",
                    "FAIL",
                    f"missing {', '.join(missing)} (needed by {', '.join(needs)})",
                    f"add {', '.join(repr(f) for f in missing)} to project {name!r} ({gid}) in Asana",
                )
            )
    if not checks:
        more = f" (first {len(projects)} of {total})" if total > len(projects) else ""
        extra = f"; {skipped} without any sprintpilot field not checked" if skipped else ""
        checks.append(Check("custom fields", "ok", f"{checked} project(s) have every field{more}{extra}"))
    return checks, False


def plan_check(asana: AsanaClient, workspaces: list[tuple[str, str]]) -> Check:
    """A read that free plans refuse (portfolios): writes nothing."""
    if not workspaces:
        return Check("asana plan", "warn", "no workspace to probe")
    try:
        asana.portfolios(workspaces[0][0])
    except PaymentRequired as err:
        return Check(
            "asana plan",
            "warn",
            f"free plan: {err.message} (health cannot run; fields, dependencies and search are refused)",
            "upgrade the Asana workspace to a paid plan, or create the custom fields by hand",
        )
    except AsanaError as err:
        return Check("asana plan", "warn", f"portfolio probe failed: {err}")
    return Check("asana plan", "ok", "premium features answer (portfolios readable)")


def approvers_check(asana: AsanaClient, settings: Settings, workspaces: list[tuple[str, str]]) -> Check:
    """Approvers must be Asana users (emails or gids): a free-text name decides nothing anywhere."""
    from service.chat_runtime import ChatConfig

    refs = [*settings.approvers, *ChatConfig().approvers, *([settings.approver] if settings.approver else [])]
    if not refs:
        return Check(
            "approvers",
            "ok",
            "none configured: decisions are taken on Asana approval tasks (by their assignee)",
        )
    users = [u for ws, _ in workspaces for u in asana.users(ws)]
    known = {u.gid for u in users} | {(u.email or "").casefold() for u in users if u.email}
    unknown = sorted({r for r in refs if r.strip().casefold() not in known})
    if unknown:
        return Check(
            "approvers",
            "FAIL",
            f"not Asana users of the allowed workspaces: {', '.join(unknown)}",
            "name approvers by Asana email or gid in SPRINTPILOT_APPROVERS / SPRINTPILOT_CHAT_APPROVERS",
        )
    return Check("approvers", "ok", f"{len(set(refs))} approver(s), all Asana users")


def webhook_check(url: str | None) -> Check:
    if not url:
        return Check("webhooks", "ok", "not configured (pass --webhook-url to check a public receiver)")
    if not url.startswith("https://"):
        return Check("webhooks", "FAIL", f"{url} is not https", "Asana only delivers to https targets")
    try:
        response = httpx.get(url, timeout=5.0)
    except httpx.HTTPError as err:
        return Check(
            "webhooks", "FAIL", f"{url} does not answer ({type(err).__name__})", "expose `sprintpilot serve`"
        )
    if response.status_code >= 500:
        return Check(
            "webhooks", "FAIL", f"{url} answers {response.status_code}", "check the server behind it"
        )
    return Check("webhooks", "ok", f"{url} answers ({response.status_code})")


def database_check(settings: Settings) -> Check:
    from sqlalchemy import text

    from service.db.engine import make_engine
    from service.settings import redact_url

    where = redact_url(settings.database_url) if settings.database_url else "SQLite under the data dir"
    try:
        engine = make_engine(settings)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as err:  # noqa: BLE001 - any driver error is the answer here
        return Check(
            "database",
            "FAIL",
            f"{where}: {type(err).__name__}",
            "start the database or fix SPRINTPILOT_DATABASE_URL",
        )
    return Check("database", "ok", where)


def broker_check(settings: Settings) -> Check:
    if "redis_url" not in settings.model_fields_set:
        return Check("broker", "ok", "not configured (only `worker`, `beat` and `serve` need Redis)")
    from service.settings import redact_url

    try:
        import redis

        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as err:  # noqa: BLE001 - connection refused, auth, DNS...
        return Check(
            "broker",
            "FAIL",
            f"{redact_url(settings.redis_url)}: {type(err).__name__}",
            "start Redis or fix SPRINTPILOT_REDIS_URL",
        )
    return Check("broker", "ok", redact_url(settings.redis_url))
