"""AsanaClient: the typed Asana client every sprintpilot agent uses.

Built by the composition root from settings (base URL: real Asana or the sandbox; token). All
calls go through one retry policy, one call counter and per-client concurrency caps.
"""

from __future__ import annotations

from tools.asana.reads import ReadOps
from tools.asana.webhooks import WebhookOps
from tools.asana.writes import WriteOps

ASANA_BASE_URL = "https://app.asana.com/api/1.0"


class AsanaClient(ReadOps, WriteOps, WebhookOps):
    """See ReadOps / WriteOps / WebhookOps for the operations; ClientCore for construction."""

    def __enter__(self) -> AsanaClient:
        return self
