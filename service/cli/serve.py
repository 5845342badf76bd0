"""`sprintpilot serve` (the HTTP API) and `sprintpilot webhooks register|list|delete`.

Mount in the main app with `app.command("serve")(serve)` and `app.add_typer(webhooks_app, name="webhooks")`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from service.cli.errors import friendly
from service.cli.options import ensure_port_free, free_port
from service.cli.render import add_column, console, wide_or_narrow
from service.settings import Settings, load_settings
from tools.asana.client import AsanaClient
from tools.errors import ConfigError

# gid, resource, target URL, active, last success in Asana, last delivery received here
WebhookRow = tuple[str, str, str, str, datetime | None, datetime | None]

webhooks_app = typer.Typer(
    help="Asana webhooks that feed the event pipeline (real Asana or a `sprintpilot sandbox` server).",
    no_args_is_help=True,
)


@friendly
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Run the HTTP API: webhook receiver, approvals, /healthz and /metrics."""
    import uvicorn

    from service.api import create_api
    from service.api.chat import include_chat
    from service.db.migrate import migrate

    ensure_port_free(host, port)
    if port == 0:
        port = free_port(host)  # the banner names the port it serves on, not "0"
    settings = load_settings()
    migrate(settings)
    app = create_api(settings)
    include_chat(app)
    console.print(f"sprintpilot API on [bold]http://{host}:{port}[/] (webhooks at /webhooks/asana)")
    if settings.api_token is None:
        console.print("[yellow]approvals API disabled:[/] set SPRINTPILOT_API_TOKEN to enable /approvals")
    # Our own code reads X-Forwarded-For, and only from SPRINTPILOT_TRUSTED_PROXIES (api/clients.py).
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)


@contextmanager
def _asana(settings: Settings) -> Iterator[AsanaClient]:
    if settings.asana_auth == "oauth" and settings.asana_base_url is not None:
        from service.db.engine import make_engine
        from service.oauth.tokens import service_token

        engine = make_engine(settings)
        try:
            with AsanaClient(settings.asana_base_url, service_token(engine, settings)) as client:
                yield client
        finally:
            engine.dispose()
        return
    if settings.asana_base_url is None or settings.asana_token is None:
        # An in-process sandbox stops delivering when this command exits, so it cannot host webhooks.
        raise ConfigError(
            "webhooks need a running Asana: set SPRINTPILOT_ASANA_BASE_URL and SPRINTPILOT_ASANA_TOKEN "
            "(real Asana, or the URL and token printed by `sprintpilot sandbox`)"
        )
    client = AsanaClient(settings.asana_base_url, settings.asana_token.get_secret_value())
    try:
        yield client
    finally:
        client.close()


def _workspace(settings: Settings, asana: AsanaClient) -> str:
    if settings.allowed_workspaces:
        return settings.allowed_workspaces[0]
    workspaces = asana.workspaces()
    if not workspaces:
        raise ConfigError("the Asana token sees no workspace")
    return workspaces[0].gid


@webhooks_app.command("register")
@friendly
def register(
    project: Annotated[str, typer.Option("--project", help="Project name or gid to watch.")],
    target: Annotated[
        str, typer.Option("--target", help="Public base URL of this API, e.g. https://sp.example.com")
    ],
) -> None:
    """Create a webhook on a project; the running API receives the handshake and keeps the secret."""
    from service.db.engine import make_engine
    from service.db.migrate import migrate
    from service.events.subscriptions import register_webhook

    settings = load_settings()
    migrate(settings)
    engine = make_engine(settings)
    try:
        with _asana(settings) as asana:
            ws = _workspace(settings, asana)
            found = asana.find_project(ws, project)
            sub = register_webhook(
                asana, engine, resource_gid=found.gid, receiver_url=target, workspace_gid=ws
            )
    finally:
        engine.dispose()
    console.print(f"webhook [bold]{sub.webhook_gid}[/] on project {found.name or found.gid} → {sub.target}")


@webhooks_app.command("list")
@friendly
def list_webhooks() -> None:
    """Webhooks stored here, with Asana's view of their delivery health."""
    from service.db.engine import make_engine
    from service.db.migrate import migrate
    from service.events.subscriptions import list_subscriptions

    settings = load_settings()
    migrate(settings)
    engine = make_engine(settings)
    try:
        local = list_subscriptions(engine)
    finally:
        engine.dispose()
    remote = {}
    with _asana(settings) as asana:
        for ws in sorted(
            {s.workspace_gid for s in local if s.workspace_gid} or {_workspace(settings, asana)}
        ):
            remote.update({w.gid: w for w in asana.webhooks(ws)})
    rows: list[WebhookRow] = []
    for sub in local:
        hook = remote.get(sub.webhook_gid)
        active = "gone in Asana" if hook is None else str(bool(hook.active) and sub.active).lower()
        success = hook.last_success_at if hook is not None else None
        rows.append((sub.webhook_gid, sub.resource_gid, sub.target, active, success, sub.last_delivery_at))
    console.print(wide_or_narrow(lambda narrow: _webhooks_table(rows, narrow)))


def _webhooks_table(rows: list[WebhookRow], narrow: bool) -> Table:
    """Webhooks; in a narrow terminal times are to the minute, resource and state go under the gid."""
    table = Table(title=f"Webhooks ({len(rows)})")
    if narrow:
        add_column(table, "gid", min_width=16)  # wraps between the gids, never inside one
    else:
        add_column(table, "gid", ident=True)
        add_column(table, "resource", ident=True)
    add_column(table, "target")
    if not narrow:
        add_column(table, "active")
    add_column(table, "last success" if narrow else "last_success_at", ident=True)
    add_column(table, "last delivery" if narrow else "last_delivery_here", ident=True)

    def when(moment: datetime | None) -> str:
        if moment is None:
            return "-"
        return moment.strftime("%Y-%m-%d %H:%M") if narrow else moment.isoformat()

    for gid, resource, target, active, success, here in rows:
        if narrow:
            cells = [f"{gid}\n[dim]on {resource}, active: {active}[/]", escape(target)]
        else:
            cells = [gid, resource, escape(target), active]
        table.add_row(*cells, when(success), when(here))
    return table


@webhooks_app.command("delete")
@friendly
def delete(gid: Annotated[str, typer.Argument(help="Webhook gid (see `webhooks list`).")]) -> None:
    """Delete a webhook in Asana and forget its secret here."""
    from service.db.engine import make_engine
    from service.db.migrate import migrate
    from service.events.subscriptions import delete_subscription
    from tools.asana.errors import NotFound

    settings = load_settings()
    migrate(settings)
    with _asana(settings) as asana:
        try:
            asana.delete_webhook(gid)
            remote = "deleted in Asana"
        except NotFound:
            remote = "already gone in Asana"
    engine = make_engine(settings)
    try:
        local = delete_subscription(engine, gid)
    finally:
        engine.dispose()
    console.print(f"webhook {gid}: {remote}; {'secret removed here' if local else 'not stored here'}")
