"""Tags, portfolios (+ items) and status updates."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from sandbox import richtext
from sandbox.context import Ctx, build_ctx
from sandbox.errors import bad_request
from sandbox.events import emit
from sandbox.records import Portfolio, Project, Record, StatusUpdate

router = APIRouter()
STATUS_TYPES = {
    "on_track",
    "at_risk",
    "off_track",
    "on_hold",
    "complete",
    "achieved",
    "partial",
    "missed",
    "dropped",
}


# ---- tags -----------------------------------------------------------------------------------
def _tags(ctx: Ctx, workspace: str | None) -> Response:
    if workspace:
        ctx.need_workspace(workspace)
    records: list[Record] = [
        t
        for t in ctx.store.tags.values()
        if (t.workspace == workspace if workspace else t.workspace in ctx.user.workspaces)
    ]
    return ctx.page(records)


@router.get("/tags")
def get_tags(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return _tags(ctx, ctx.query("workspace"))


@router.get("/workspaces/{workspace_gid}/tags")
def get_tags_for_workspace(workspace_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        ctx.need(workspace_gid, "workspace")
        return _tags(ctx, workspace_gid)


def _create_tag(ctx: Ctx, workspace: str | None) -> Response:
    data = ctx.data()
    workspace = ctx.need_workspace(workspace or data.get("workspace"))
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise bad_request("name: Missing input")
    tag = ctx.store.add_tag(workspace, name, color=data.get("color"), notes=str(data.get("notes") or ""))
    return ctx.one(tag, 201)


@router.post("/tags")
def create_tag(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return _create_tag(ctx, None)


@router.post("/workspaces/{workspace_gid}/tags")
def create_tag_for_workspace(workspace_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return _create_tag(ctx, workspace_gid)


@router.get("/tags/{tag_gid}")
def get_tag(tag_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return ctx.one(ctx.need(tag_gid, "tag"))


# ---- portfolios -----------------------------------------------------------------------------
_PORTFOLIO_PRIVACY = ("public_to_domain", "members_only")


@router.get("/portfolios")
def get_portfolios(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        workspace = ctx.need_workspace(ctx.query("workspace"))
        owner = ctx.resolve_user(ctx.query("owner") or "me", "owner")
        records: list[Record] = [
            p
            for p in ctx.store.portfolios.values()
            if p.workspace == workspace and (p.owner == owner or owner in p.members)
        ]
        return ctx.page(records)


@router.post("/portfolios")
def create_portfolio(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        data = ctx.data()
        workspace = ctx.need_workspace(data.get("workspace"))
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise bad_request("name: Missing input")
        # asana_oas.yaml PortfolioRequest.public is deprecated for `privacy_setting`
        # (PortfolioResponse enum); either sets who sees the portfolio.
        privacy = data.get("privacy_setting")
        if privacy is not None and privacy not in _PORTFOLIO_PRIVACY:
            raise bad_request(f"privacy_setting: Not one of {', '.join(_PORTFOLIO_PRIVACY)}: {privacy!r}")
        public = privacy == "public_to_domain" if privacy is not None else bool(data.get("public", False))
        portfolio = ctx.store.add_portfolio(
            workspace,
            name,
            owner=ctx.user.gid,
            color=str(data.get("color") or "light-warm-gray"),
            public=public,
        )
        return ctx.one(portfolio, 201)


@router.get("/portfolios/{portfolio_gid}")
def get_portfolio(portfolio_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return ctx.one(ctx.need(portfolio_gid, "portfolio"))


@router.delete("/portfolios/{portfolio_gid}")
def delete_portfolio(portfolio_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    """asana_oas.yaml paths./portfolios/{portfolio_gid}.delete: 200 `{"data": {}}`. Its items stay
    (projects live on their own); its field settings and status updates go with it."""
    with ctx.lock:
        portfolio: Portfolio = ctx.need(portfolio_gid, "portfolio")
        for other in ctx.store.portfolios.values():
            if portfolio_gid in other.items:
                other.items.remove(portfolio_gid)
        for setting_gid in portfolio.custom_field_settings:
            ctx.store.remove(setting_gid)
        for update in [u for u in ctx.store.status_updates.values() if u.parent == portfolio_gid]:
            ctx.store.remove(update.gid)
        emit(ctx.store, portfolio, "deleted", user=ctx.user.gid)
        ctx.store.remove(portfolio_gid)
        return ctx.empty()


@router.get("/portfolios/{portfolio_gid}/items")
def get_items_for_portfolio(portfolio_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        portfolio: Portfolio = ctx.need(portfolio_gid, "portfolio")
        records: list[Record] = [
            ctx.store.index[g]
            for g in portfolio.items
            if g in ctx.store.index and ctx.sees(ctx.store.index[g])
        ]
        return ctx.page(records)


@router.post("/portfolios/{portfolio_gid}/addItem")
def add_item_for_portfolio(portfolio_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        portfolio: Portfolio = ctx.need(portfolio_gid, "portfolio")
        data = ctx.data()
        if not data.get("item"):
            raise bad_request("item: Missing input")
        item = ctx.need(str(data["item"]), "project", "portfolio", field="item")
        if item.gid == portfolio.gid:
            raise bad_request("item: A portfolio cannot contain itself")
        if item.gid in portfolio.items:
            return ctx.empty()
        position = len(portfolio.items)
        for key, shift in (("insert_before", 0), ("insert_after", 1)):
            anchor = data.get(key)
            if anchor is not None:
                if anchor not in portfolio.items:
                    raise bad_request(f"{key}: Item is not in this portfolio")
                position = portfolio.items.index(anchor) + shift
        portfolio.items.insert(position, item.gid)
        emit(ctx.store, item, "added", user=ctx.user.gid, parent=portfolio, extra_scopes=[portfolio.gid])
        return ctx.empty()


@router.post("/portfolios/{portfolio_gid}/removeItem")
def remove_item_for_portfolio(portfolio_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        portfolio: Portfolio = ctx.need(portfolio_gid, "portfolio")
        item = str(ctx.data().get("item") or "")
        if not item:
            raise bad_request("item: Missing input")  # asana_oas.yaml RemoveItemRequest: required [item]
        if item in portfolio.items:
            portfolio.items.remove(item)
            emit(
                ctx.store,
                ctx.store.index[item],
                "removed",
                user=ctx.user.gid,
                parent=portfolio,
                extra_scopes=[portfolio.gid],
            )
        return ctx.empty()


# ---- status updates -------------------------------------------------------------------------
@router.post("/status_updates")
def create_status_update(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        data = ctx.data()
        for key in ("parent", "text", "status_type"):
            if not data.get(key):
                raise bad_request(f"{key}: Missing input")
        parent: Project | Portfolio = ctx.need(str(data["parent"]), "project", "portfolio", field="parent")
        if data["status_type"] not in STATUS_TYPES - {"achieved", "partial", "missed"}:
            raise bad_request(
                f"status_type: Invalid value {data['status_type']!r} for a {parent.resource_type}"
            )
        if not isinstance(data["text"], str):
            raise bad_request("text: Value is not a string")
        text, html_text = data["text"], data.get("html_text")
        if html_text is not None:
            # With both, the rich text is the content; its plain text is what reads return.
            html_text, text = richtext.validated("html_text", html_text, "status_update")
        update = ctx.store.add_status_update(
            parent.gid,
            text=text,
            status_type=data["status_type"],
            title=str(data.get("title") or ""),
            author=ctx.user.gid,
            html_text=html_text,
        )
        emit(ctx.store, update, "added", user=ctx.user.gid, parent=parent, extra_scopes=[parent.gid])
        return ctx.one(update, 201)


@router.get("/status_updates")
def get_statuses_for_object(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        parent = ctx.query("parent")
        if parent is None:
            raise bad_request("parent: Missing input")
        ctx.need(parent, "project", "portfolio", field="parent")
        created_since = ctx.query("created_since")
        updates = [u for u in ctx.store.status_updates.values() if u.parent == parent]
        if created_since:
            updates = [u for u in updates if u.created_at >= created_since]
        updates.sort(key=lambda u: u.created_at, reverse=True)  # newest first, like Asana
        records: list[Record] = list(updates)
        return ctx.page(records)


@router.get("/status_updates/{status_gid}")
def get_status(status_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return ctx.one(ctx.need(status_gid, "status_update"))


@router.delete("/status_updates/{status_gid}")
def delete_status(status_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        update: StatusUpdate = ctx.need(status_gid, "status_update")
        ctx.store.remove(update.gid)
        parent = ctx.store.index.get(update.parent)
        if isinstance(parent, Project | Portfolio) and parent.current_status_update == update.gid:
            remaining = sorted(
                (u for u in ctx.store.status_updates.values() if u.parent == parent.gid),
                key=lambda u: u.created_at,
            )
            parent.current_status_update = remaining[-1].gid if remaining else None
        return ctx.empty()
