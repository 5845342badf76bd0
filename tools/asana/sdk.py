"""Construction of the official SDK's ApiClient, with its own retries switched off.

The SDK's default `Retry(total=5, backoff_factor=2, status_forcelist=[429, 5xx])` retries GETs
but not POSTs, sleeps for real, and ends in urllib3 `MaxRetryError` instead of `ApiException`.
Our retry layer (retry.py) must be the only one, so urllib3 gets a zero-retry policy that hands
every status straight back.
"""

from __future__ import annotations

import asana
from urllib3.util.retry import Retry


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


def build_api_client(base_url: str, token: str, *, pool_size: int) -> asana.ApiClient:
    configuration = asana.Configuration()
    configuration.host = base_url.rstrip("/")
    configuration.access_token = token
    configuration.retry_strategy = no_retry()
    # One pooled connection per request we allow in flight, so urllib3 never discards connections.
    configuration.connection_pool_maxsize = pool_size
    return asana.ApiClient(configuration)
