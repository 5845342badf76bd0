"""The OAuth token store: per Asana user, Fernet-encrypted access and refresh tokens in the app DB.

`access_token_for` refreshes a token that has expired or expires within a minute. The refresh
runs inside a write transaction that locks the user's row (`SELECT ... FOR UPDATE` on Postgres,
`BEGIN IMMEDIATE` on SQLite), and re-reads the row once it holds the lock, so when two workers
race, one refreshes and the other uses its result. A refresh answered `invalid_grant` means the
user revoked the app in Asana: the row is deleted and the caller is told to log in again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, SecretStr
from sqlalchemy import Engine, select, update

from service.db.engine import read_session, write_session
from service.db.models import OAuthTokenRow
from service.oauth.client import OAuthClient, OAuthGrantError, TokenGrant
from service.settings import Settings
from tools.errors import ConfigError, UserError

REFRESH_MARGIN = timedelta(seconds=60)
Clock = Callable[[], datetime]


class StoredToken(BaseModel):
    """What `auth status` shows: who, until when, which scopes; never a token."""

    user_gid: str
    user_name: str | None
    expires_at: datetime
    scopes: str | None
    service: bool

    @property
    def label(self) -> str:
        return self.user_name or self.user_gid


def _view(row: OAuthTokenRow) -> StoredToken:
    return StoredToken(
        user_gid=row.user_gid,
        user_name=row.user_name,
        expires_at=row.expires_at,
        scopes=row.scopes,
        service=row.service,
    )


def _not_logged_in(user_gid: str) -> UserError:
    return UserError(f"no Asana authorization is stored for user {user_gid}; run `sprintpilot auth login`")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TokenStore:
    def __init__(
        self, engine: Engine, settings: Settings, *, client: OAuthClient | None = None, clock: Clock = _utcnow
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._client = client
        self._clock = clock
        self._lock = threading.Lock()  # one refresh at a time in this process (the row lock: across)

    def __repr__(self) -> str:
        return "TokenStore()"

    # ---- crypto ------------------------------------------------------------------------------
    def _fernet(self) -> Fernet:
        key = self._settings.token_key
        if key is None:
            raise ConfigError(
                "SPRINTPILOT_TOKEN_KEY is not set, and OAuth tokens are never stored in plain text: "
                'generate one with `python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"`'
            )
        try:
            return Fernet(key.get_secret_value().encode())
        except (ValueError, TypeError):
            raise ConfigError(
                "SPRINTPILOT_TOKEN_KEY is not a Fernet key (32 url-safe base64 bytes)"
            ) from None

    def check_key(self) -> None:
        """ConfigError now when no token could be stored (missing or malformed key)."""
        self._fernet()

    def _encrypt(self, secret: SecretStr) -> str:
        return self._fernet().encrypt(secret.get_secret_value().encode()).decode("ascii")

    def _decrypt(self, token: str) -> SecretStr:
        try:
            return SecretStr(self._fernet().decrypt(token.encode("ascii")).decode())
        except InvalidToken:
            raise ConfigError(
                "stored OAuth tokens cannot be decrypted with SPRINTPILOT_TOKEN_KEY (was it changed?); "
                "run `sprintpilot auth login` again"
            ) from None

    def _oauth(self) -> OAuthClient:
        if self._client is None:
            self._client = OAuthClient(self._settings)
        return self._client

    # ---- writes ------------------------------------------------------------------------------
    def save(self, grant: TokenGrant, *, service: bool = False) -> StoredToken:
        """Store (or replace) the grant's user's tokens; `service` makes that user the service
        account (and no one else)."""
        if grant.refresh_token is None:
            raise UserError("the token answer has no refresh token; nothing stored")
        access, refresh = self._encrypt(grant.access_token), self._encrypt(grant.refresh_token)
        now = self._clock()
        with write_session(self._engine) as session:
            if service:
                session.execute(update(OAuthTokenRow).values(service=False))
            row = session.get(OAuthTokenRow, grant.user.gid)
            if row is None:
                row = OAuthTokenRow(user_gid=grant.user.gid, created_at=now)
                session.add(row)
            row.user_name = grant.user.label
            row.access_token_enc, row.refresh_token_enc = access, refresh
            row.expires_at = now + timedelta(seconds=grant.expires_in)
            row.scopes = grant.scope
            row.service = service or bool(row.service)
            row.updated_at = now
            session.flush()
            return _view(row)

    def delete(self, user_gid: str) -> bool:
        with write_session(self._engine) as session:
            row = session.get(OAuthTokenRow, user_gid)
            if row is None:
                return False
            session.delete(row)
            return True

    def revoke(self, user_gid: str) -> StoredToken | None:
        """Revoke the user's refresh token at Asana (which revokes its access tokens too), then
        delete the row. A token Asana no longer knows is fine; the row goes either way."""
        row = self._row(user_gid)
        if row is None:
            return None
        try:
            self._oauth().revoke(self._decrypt(row.refresh_token_enc))
        finally:
            self.delete(user_gid)
        return _view(row)

    # ---- reads -------------------------------------------------------------------------------
    def _row(self, user_gid: str) -> OAuthTokenRow | None:
        with read_session(self._engine) as session:
            return session.get(OAuthTokenRow, user_gid)

    def get(self, user_gid: str) -> StoredToken | None:
        row = self._row(user_gid)
        return _view(row) if row is not None else None

    def all(self) -> list[StoredToken]:
        with read_session(self._engine) as session:
            rows = session.scalars(select(OAuthTokenRow).order_by(OAuthTokenRow.user_gid)).all()
            return [_view(r) for r in rows]

    def service_user(self) -> StoredToken | None:
        with read_session(self._engine) as session:
            row = session.scalars(select(OAuthTokenRow).where(OAuthTokenRow.service.is_(True))).first()
            return _view(row) if row is not None else None

    def _fresh(self, row: OAuthTokenRow) -> bool:
        return row.expires_at - REFRESH_MARGIN > self._clock()

    def access_token_for(self, user_gid: str) -> SecretStr:
        return self.current(user_gid)[0]

    def current(self, user_gid: str) -> tuple[SecretStr, datetime]:
        """The user's access token and its expiry, refreshed first when it is (nearly) expired."""
        row = self._row(user_gid)
        if row is None:
            raise _not_logged_in(user_gid)
        if self._fresh(row):
            return self._decrypt(row.access_token_enc), row.expires_at
        with self._lock:
            return self._refresh(user_gid)

    def _refresh(self, user_gid: str) -> tuple[SecretStr, datetime]:
        revoked: str | None = None
        with write_session(self._engine) as session:
            row = session.get(OAuthTokenRow, user_gid, with_for_update=True)
            if row is None:
                raise _not_logged_in(user_gid)
            if self._fresh(row):  # another worker refreshed while we waited for the lock
                return self._decrypt(row.access_token_enc), row.expires_at
            try:
                grant = self._oauth().refresh(self._decrypt(row.refresh_token_enc))
            except OAuthGrantError:
                revoked = row.user_name or row.user_gid
                session.delete(row)  # committed when the block ends; the error is raised after
            else:
                now = self._clock()
                row.access_token_enc = self._encrypt(grant.access_token)
                if grant.refresh_token is not None:  # Asana keeps the refresh token; others rotate it
                    row.refresh_token_enc = self._encrypt(grant.refresh_token)
                row.expires_at = now + timedelta(seconds=grant.expires_in)
                row.updated_at = now
                return grant.access_token, row.expires_at
        raise UserError(f"the Asana authorization of {revoked} was revoked; run `sprintpilot auth login`")


class ServiceToken:
    """The Asana client's token source under SPRINTPILOT_ASANA_AUTH=oauth: the service account's
    access token, kept in memory until a minute before it expires (the SDK asks per request)."""

    def __init__(self, store: TokenStore, user_gid: str, clock: Clock = _utcnow) -> None:
        self._store = store
        self.user_gid = user_gid
        self._clock = clock
        self._lock = threading.Lock()
        self._token: SecretStr | None = None
        self._expires = datetime.min.replace(tzinfo=UTC)

    def __repr__(self) -> str:
        return f"ServiceToken(user_gid={self.user_gid!r})"

    def __call__(self) -> str:
        with self._lock:
            if self._token is None or self._expires - REFRESH_MARGIN <= self._clock():
                self._token, self._expires = self._store.current(self.user_gid)
            return self._token.get_secret_value()


def service_token(engine: Engine, settings: Settings) -> ServiceToken:
    """The token source for SPRINTPILOT_ASANA_AUTH=oauth, or a ConfigError saying what to do."""
    store = TokenStore(engine, settings)
    user = store.service_user()
    if user is None:
        raise ConfigError(
            "SPRINTPILOT_ASANA_AUTH=oauth but no service account is logged in: "
            "run `sprintpilot auth login` as the service (bot) user"
        )
    return ServiceToken(store, user.user_gid)
