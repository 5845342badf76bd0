"""Console sign-in: an encrypted session cookie, CSRF tokens, `/login` and `/logout`.

The session is a cookie (`sp_session`) holding the person's Asana gid/email and a CSRF secret,
encrypted and authenticated with Fernet and valid 8 h (Fernet's timestamp is checked on every
read, so an old cookie is refused server-side even if a browser keeps it). Nothing is stored on
the server, so any API process can serve any request. Signing in needs the API token (the same
secret as `Authorization: Bearer`) plus an Asana identity, or Asana OAuth (`/oauth/login`).
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from graphs.ports import AuditRecord
from graphs.visibility import Person
from service.api.errors import ApiError
from service.api.state import RuntimeFactory, api_state
from service.console.render import ConsoleError, ConsoleRedirect, render
from service.settings import Settings
from tools.errors import UserError

COOKIE = "sp_session"
LOGIN_CSRF_COOKIE = "sp_login_csrf"  # double-submit token for the sign-in form (no session yet)
LIFETIME_S = 8 * 3600
LOGIN_FORM_TTL_S = 3600
_FIELD_MAX = 200

router = APIRouter(tags=["console"], include_in_schema=False)


@dataclass(frozen=True)
class Session:
    person: Person
    csrf: str


def _fernet(settings: Settings) -> Fernet | None:
    """The session cookie's key, or None when neither secret is configured (no sign-in at all).

    HKDF-SHA256 turns the configured secret into a 32-byte key for this one purpose: the API
    token is a bearer secret of any length, not a Fernet key, and even SPRINTPILOT_TOKEN_KEY
    (which already is one) encrypts stored OAuth tokens, so a distinct `info` keeps a stored token
    from ever decrypting as a session and vice versa. Rotating either secret ends every session.
    """
    if settings.token_key is not None:
        material, salt = settings.token_key.get_secret_value().encode(), b"sprintpilot token key"
    elif settings.api_token is not None:
        material, salt = settings.api_token.get_secret_value().encode(), b"sprintpilot api token"
    else:
        return None
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"sprintpilot console session v1")
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(material)))


def console_runtime(request: Request) -> RuntimeFactory:
    """The runtime factory the console was mounted with (the API's shared one by default)."""
    factory: RuntimeFactory = request.app.state.console.runtime_factory
    return factory


def read_session(request: Request) -> Session | None:
    fernet = _fernet(api_state(request).settings)
    raw = request.cookies.get(COOKIE)
    if fernet is None or not raw:
        return None
    try:
        data = json.loads(fernet.decrypt(raw.encode("ascii"), ttl=LIFETIME_S))
        person = Person(gid=data["gid"], email=data.get("email"), name=data.get("name"))
        return Session(person=person, csrf=str(data["csrf"]))
    except (InvalidToken, ValueError, KeyError, TypeError, UnicodeEncodeError):
        return None  # expired, tampered with, or made with another key: signed out


def start_session(request: Request, response: Response, person: Person) -> None:
    """Sign `person` in on `response` (the sign-in form and the OAuth callback both end here)."""
    fernet = _fernet(api_state(request).settings)
    if fernet is None:
        raise ConsoleError(503, "the console needs SPRINTPILOT_API_TOKEN or SPRINTPILOT_TOKEN_KEY")
    payload = {
        "gid": person.gid,
        "email": person.email,
        "name": person.name,
        "csrf": secrets.token_urlsafe(32),
    }
    response.set_cookie(
        COOKIE,
        fernet.encrypt(json.dumps(payload).encode()).decode("ascii"),
        max_age=LIFETIME_S,
        path="/",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",  # sent on top-level navigations only, so other sites cannot post with it
    )


def current_person(request: Request) -> Person:
    """Dependency: the signed-in person; GET pages send others to /login, anything else 401."""
    session = read_session(request)
    if session is None:
        if request.method in ("GET", "HEAD"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise ConsoleRedirect(f"/login?next={quote(target, safe='')}")
        raise ConsoleError(401, "Your session ended; sign in again.")
    request.state.console_person = session.person
    request.state.console_csrf = session.csrf
    return session.person


def csrf_token(request: Request) -> str:
    """The token a form must send back as `csrf` (the session's, else the sign-in form's)."""
    session = read_session(request)
    if session is not None:
        return session.csrf
    token: str = getattr(request.state, "console_csrf", "") or request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return token


async def require_csrf(request: Request) -> None:
    """Dependency for every console POST: the form's `csrf` must equal the expected token."""
    form = await request.form()  # Starlette caches it, so the route reads the same form again
    given = form.get("csrf")
    expected = csrf_token(request)
    if (
        not isinstance(given, str)
        or not expected
        or not hmac.compare_digest(given.encode(), expected.encode())
    ):
        raise ConsoleError(
            403, "This form expired or did not come from this console; reload the page and retry."
        )


def safe_next(value: str | None) -> str:
    """Only a path on this site: never `//host`, a scheme, or a backslash trick."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/inbox"
    if any(ch in value for ch in "\\\r\n\t") or len(value) > 1000:
        return "/inbox"
    return value


def _login_page(
    request: Request, *, next_path: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    settings = api_state(request).settings
    response = render(
        request,
        "login.html",
        status_code=status,
        csrf=token,
        next_path=next_path,
        error=error,
        oauth=bool(settings.oauth_client_id),
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=LOGIN_FORM_TTL_S,
        path="/login",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
    )
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the query name
    return _login_page(request, next_path=safe_next(next))


def _refuse(request: Request, reason: str, next_path: str, message: str) -> HTMLResponse:
    state = api_state(request)
    client = state.client(request)
    # A failed sign-in is a security event, counted toward the same flood limit as bad API tokens.
    state.audit_failure(
        client,
        AuditRecord(
            actor="system:console",
            event="console.login_failed",
            outcome="denied",
            target="/login",
            reason=reason,
            details={"client": client},
        ),
    )
    return _login_page(request, next_path=next_path, error=message, status=400)


@router.post("/login", dependencies=[Depends(require_csrf)])
async def login(request: Request) -> Response:
    state = api_state(request)
    try:
        state.refuse_if_flooding(state.client(request))
    except ApiError as err:
        raise ConsoleError(429, err.message, title="Too many attempts") from None
    form = await request.form()
    token, user = str(form.get("token") or ""), str(form.get("user") or "").strip()
    next_path = safe_next(str(form.get("next") or ""))
    expected = state.settings.api_token
    if expected is None:
        raise ConsoleError(503, "Sign-in with the API token is off: set SPRINTPILOT_API_TOKEN.")
    if len(token) > _FIELD_MAX or not hmac.compare_digest(
        token.encode("utf-8"), expected.get_secret_value().encode("utf-8")
    ):
        return _refuse(request, "invalid API token", next_path, "That API token is not valid.")
    if not user or len(user) > _FIELD_MAX:
        return _refuse(request, "no Asana user", next_path, "Give your Asana email or user gid.")
    try:
        person = await run_in_threadpool(_resolve, request, user)
    except UserError as err:
        return _refuse(request, "unknown Asana user", next_path, " ".join(str(err).split()))
    response = RedirectResponse(next_path, status_code=303)
    start_session(request, response, person)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _resolve(request: Request, user: str) -> Person:
    """The Asana user named by an email or gid, from the Directory (service/identity.py: the
    workspace's users, cached for the process) like every other surface; blocking."""
    with console_runtime(request)() as rt:
        return rt.directory.person(rt.resolve_workspace(), user)


@router.post("/logout", dependencies=[Depends(require_csrf)])
def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
    return response


def session_for_oauth(request: Request, response: Response, user_gid: str) -> Person | None:
    """After `/oauth/callback`: sign the Asana user who authorized into the console, if they are a
    user of the workspace (anyone with an Asana account can authorize the app). Returns the
    person, or None when the console is not mounted or the user is not one of ours."""
    if getattr(request.app.state, "console", None) is None:
        return None
    try:
        person = _resolve(request, user_gid)
    except UserError:
        return None
    start_session(request, response, person)
    return person
