"""Free-plan emulation: premium-only features answer 402 Payment Required, as Asana does.

The plan lives in `store.meta["plan"]` ("free" or "paid"; absent = paid), so it is saved with the
state and can be switched at runtime (`PUT /__sandbox/plan`). One ASGI middleware checks each
request against the small table below; routes know nothing about plans.

The table holds what Asana's OpenAPI spec documents with a 402 response and the product uses
(task dependencies; workspace task search, whose description says non-premium users get 402),
plus two premium features the spec describes without listing 402 but that a free workspace
cannot use: custom fields (tag description: "Custom fields are a premium feature"; creating,
editing and adding them to projects; reading existing ones stays allowed) and portfolios.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.context import API_PREFIX
from sandbox.errors import error_response
from sandbox.store import Store

PLANS = ("free", "paid")
# The spec's wording for 402 (components/responses/PaymentRequired).
PAYMENT_REQUIRED_MESSAGE = (
    "The request was valid, but the queried object or object mutation specified in the request "
    "is above your current premium level."
)

# (method, path template) -> feature; templates as in the spec, `*` = any method.
PREMIUM_ENDPOINTS: tuple[tuple[str, str, str], ...] = (
    ("GET", "/tasks/{task_gid}/dependencies", "task dependencies"),
    ("GET", "/tasks/{task_gid}/dependents", "task dependencies"),
    ("POST", "/tasks/{task_gid}/addDependencies", "task dependencies"),
    ("POST", "/tasks/{task_gid}/removeDependencies", "task dependencies"),
    ("POST", "/tasks/{task_gid}/addDependents", "task dependencies"),
    ("POST", "/tasks/{task_gid}/removeDependents", "task dependencies"),
    ("GET", "/workspaces/{workspace_gid}/tasks/search", "advanced search"),
    ("POST", "/custom_fields", "custom fields"),
    ("PUT", "/custom_fields/{custom_field_gid}", "custom fields"),
    ("POST", "/custom_fields/{custom_field_gid}/enum_options", "custom fields"),
    ("POST", "/projects/{project_gid}/addCustomFieldSetting", "custom fields"),
    ("*", "/portfolios", "portfolios"),
    ("*", "/portfolios/{portfolio_gid}", "portfolios"),
    ("*", "/portfolios/{portfolio_gid}/{action}", "portfolios"),
    # Goals: the spec lists 402 on the goal endpoints (getGoals, createGoal, setMetric, ...).
    ("*", "/goals", "goals"),
    ("*", "/goals/{goal_gid}", "goals"),
    ("*", "/goals/{goal_gid}/{action}", "goals"),
)


def _compile(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "/?$")


_TABLE = [(method, _compile(template), feature) for method, template, feature in PREMIUM_ENDPOINTS]


def plan_of(store: Store) -> str:
    return str(store.meta.get("plan") or "paid")


def set_plan(store: Store, plan: str | None) -> str:
    """Switch the workspace plan ("free"/"paid"; None = paid); ValueError for anything else."""
    plan = plan or "paid"
    if plan not in PLANS:
        raise ValueError(f"plan must be one of {', '.join(PLANS)}, not {plan!r}")
    with store.lock:
        if plan == "paid":
            store.meta.pop("plan", None)
        else:
            store.meta["plan"] = plan
    return plan


def premium_feature(method: str, path: str) -> str | None:
    """The premium feature `method path` (without the API prefix) uses, or None."""
    for m, pattern, feature in _TABLE:
        if (m == "*" or m == method) and pattern.match(path):
            return feature
    return None


class PremiumMiddleware:
    """Answers 402 for premium endpoints while the store's plan is "free".

    Only for a known token: without one, the route answers 401 first, as Asana does."""

    def __init__(self, app: ASGIApp, store: Store) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(API_PREFIX) and plan_of(self.store) == "free":
            feature = premium_feature(scope["method"], path.removeprefix(API_PREFIX))
            if feature is not None and self._known_token(scope):
                await error_response(402, PAYMENT_REQUIRED_MESSAGE)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _known_token(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                return scheme.lower() == "bearer" and token.strip() in self.store.tokens
        return False
