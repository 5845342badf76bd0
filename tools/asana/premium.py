"""Which premium (paid-plan) Asana feature a request uses, named for people.

Asana answers 402 Payment Required when a free workspace asks for a premium-only feature; its
message does not say which, so `PaymentRequired` names it from the method and path here.
"""

from __future__ import annotations

import re

# Concrete paths (gids are digits in Asana; the sandbox uses digits too), first match wins.
_FEATURES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^/tasks/[^/]+/(add|remove)?(dependencies|dependents)$", re.I), "task dependencies"),
    (re.compile(r"^/workspaces/[^/]+/tasks/search$"), "advanced search"),
    (
        re.compile(r"^/custom_fields(/|$)|/(add|remove)CustomFieldSetting$|/custom_field_settings$"),
        "custom fields",
    ),
    (re.compile(r"^/portfolios(/|$)|^/portfolio_memberships"), "portfolios"),
    (re.compile(r"^/goals(/|$)"), "goals"),
    (re.compile(r"^/workspaces/[^/]+/projects/search$"), "project search"),
)


def premium_feature(method: str, path: str) -> str | None:
    """The premium feature behind `method path` (path without the /api/1.0 prefix), or None."""
    bare = path.split("?", 1)[0].rstrip("/")
    for pattern, feature in _FEATURES:
        if pattern.search(bare):
            return feature
    return None
