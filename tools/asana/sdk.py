"""Construction of the official SDK's ApiClient, with its own retries switched off.

The SDK's default `Retry(total=5, backoff_factor=2, status_forcelist=[429, 5xx])` retries GETs
but not POSTs, sleeps for real, and ends in urllib3 `MaxRetryError` instead of `ApiException`.
Our retry layer (retry.py) must be the only one, so urllib3 gets a zero-retry policy that hands
every status straight back.
"""

from __future__ import annotations

from collections.abc import Callable

import asana
from urllib3.util.retry import Retry

from tools.asana.deprecations import watch_responses


def no_retry() -> Retry:
    return Retry(
        total=0,
        connect=0,
        read=0,
        redirect=0,
        status=0,
        other=0,
        status_forcelist=(),
        raise_on_status=False,
        raise_on_redirect=False,
        respect_retry_after_header=False,
    )


# A token, or a callable the SDK asks for the current one (OAuth access tokens expire hourly).
TokenSource = str | Callable[[], str]


class _ProvidedTokenConfiguration(asana.Configuration):  # type: ignore[misc]
    """The SDK builds every request's `Authorization: Bearer` header from `access_token` (in
    `auth_settings()`), so a property here hands it the provider's token per request, and an
    OAuth refresh needs no rebuilt client."""

    # No __init__ of our own: the SDK's metaclass builds every Configuration as a copy of one
    # argument-less default, so the provider is set on the copy.
    _provider: Callable[[], str]

    @property
    def access_token(self) -> str:
        return self._provider()

    @access_token.setter
    def access_token(self, value: str) -> None:
        pass  # the SDK's __init__ assigns "": the provider is the only source


def build_api_client(base_url: str, token: TokenSource, *, pool_size: int) -> asana.ApiClient:
    if callable(token):
        configuration = _ProvidedTokenConfiguration()
        configuration._provider = token
    else:
        configuration = asana.Configuration()
        configuration.access_token = token
    configuration.host = base_url.rstrip("/")
    configuration.retry_strategy = no_retry()
    # One pooled connection per request we allow in flight, so urllib3 never discards connections.
    configuration.connection_pool_maxsize = pool_size
    client = asana.ApiClient(configuration)
    watch_responses(client.rest_client)  # Asana-Change deprecation headers, logged once each
    return client
