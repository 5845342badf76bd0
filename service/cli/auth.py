"""`sprintpilot auth login|status|logout`: OAuth 2.0 to Asana instead of a personal access token.

Mount with `app.add_typer(auth_app, name="auth")`. Tokens are stored encrypted (SPRINTPILOT_TOKEN_KEY)
in the app database and never printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from service.cli.errors import friendly
from service.cli.options import ensure_port_free
from service.cli.render import console
from service.oauth.login import DEFAULT_PORT, LoopbackReceiver, open_browser, parse_callback
from service.settings import Settings, load_settings

if TYPE_CHECKING:
    from service.oauth.tokens import TokenStore

auth_app = typer.Typer(
    help="Log in to Asana with OAuth (an alternative to SPRINTPILOT_ASANA_TOKEN).", no_args_is_help=True
)


@contextmanager
def _token_store(settings: Settings) -> Iterator[TokenStore]:
    from service.db.engine import make_engine
    from service.db.migrate import migrate
    from service.oauth.tokens import TokenStore

    migrate(settings)
    engine = make_engine(settings)
    try:
        yield TokenStore(engine, settings)
    finally:
        engine.dispose()


def _show_url(url: str, browser: bool) -> None:
    # typer.echo, not rich: a wrapped URL cannot be copied.
    typer.echo("Open this URL to authorize sprintpilot in Asana:")
    typer.echo(url)
    if browser:
        open_browser(url)


@auth_app.command("login")
@friendly
def login(
    paste: Annotated[
        bool,
        typer.Option(
            "--paste",
            help="No local listener: paste the URL you are redirected to "
            "(redirect: SPRINTPILOT_OAUTH_REDIRECT_URI).",
        ),
    ] = False,
    port: Annotated[
        int, typer.Option(help="Loopback port for the redirect (register its URL).")
    ] = DEFAULT_PORT,
    redirect_uri: Annotated[
        str | None, typer.Option("--redirect-uri", help="With --paste: the redirect URL to use.")
    ] = None,
    scope: Annotated[
        str | None, typer.Option(help="Space-separated OAuth scopes (default: the app's).")
    ] = None,
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Try to open a browser.")] = True,
    service: Annotated[
        bool,
        typer.Option("--service/--no-service", help="Make this user the service account (ASANA_AUTH=oauth)."),
    ] = True,
) -> None:
    """Authorize sprintpilot in Asana (authorization code + PKCE) and store the tokens encrypted."""
    from service.oauth.client import OAuthClient, new_pkce, new_state

    settings = load_settings()
    client = OAuthClient(settings)
    with _token_store(settings) as store:
        store.check_key()  # before the browser dance, not after it
        pkce, state = new_pkce(), new_state()
        if paste:
            uri = redirect_uri or settings.oauth_redirect_uri
            _show_url(
                client.authorize_url(
                    redirect_uri=uri, state=state, code_challenge=pkce.challenge, scope=scope
                ),
                browser,
            )
            answer = parse_callback(typer.prompt("Paste the URL you were redirected to (or the code)"))
        else:
            ensure_port_free("127.0.0.1", port)
            with LoopbackReceiver(port) as receiver:
                uri = receiver.redirect_uri
                url = client.authorize_url(
                    redirect_uri=uri, state=state, code_challenge=pkce.challenge, scope=scope
                )
                _show_url(url, browser)
                typer.echo(f"Waiting for Asana to redirect to {uri} ...")
                answer = receiver.wait()
        grant = client.exchange_code(answer.code_for(state), redirect_uri=uri, code_verifier=pkce.verifier)
        stored = store.save(grant, service=service)
    role = " as the service account" if stored.service else ""
    console.print(
        f"logged in to Asana as [bold]{escape(grant.user.label)}[/] ({stored.user_gid}){role}; "
        f"access token valid until {stored.expires_at:%Y-%m-%d %H:%M} UTC, refreshed automatically"
    )
    if stored.service and settings.asana_auth != "oauth":
        console.print("set SPRINTPILOT_ASANA_AUTH=oauth to use it instead of SPRINTPILOT_ASANA_TOKEN")


@auth_app.command("status")
@friendly
def status() -> None:
    """Who is logged in, until when, with which scopes (never a token)."""
    settings = load_settings()
    with _token_store(settings) as store:
        rows = store.all()
    console.print(f"Asana auth: {settings.asana_auth}")
    if not rows:
        console.print("no OAuth login stored; run `sprintpilot auth login`")
        return
    for row in rows:
        role = "service account" if row.service else "user"
        console.print(
            f"{escape(row.label)} ({row.user_gid}), {role}: access token until "
            f"{row.expires_at:%Y-%m-%d %H:%M} UTC, scopes {escape(row.scopes or 'default')}"
        )


@auth_app.command("logout")
@friendly
def logout(
    user: Annotated[
        str | None, typer.Option("--user", help="Asana user gid (default: the service account).")
    ] = None,
) -> None:
    """Revoke the login at Asana and delete its tokens here."""
    settings = load_settings()
    with _token_store(settings) as store:
        gid = user
        if gid is None:
            current = store.service_user()
            gid = current.user_gid if current is not None else None
        gone = store.revoke(gid) if gid is not None else None
    if gone is None:
        console.print("no OAuth login stored; nothing to log out")
        return
    console.print(f"logged out {escape(gone.label)} ({gone.user_gid}): revoked at Asana, tokens deleted here")
