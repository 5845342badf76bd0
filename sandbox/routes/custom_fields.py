"""Custom fields, enum options and field settings."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from sandbox.actions.field_settings import add_setting, remove_setting
from sandbox.context import Ctx, build_ctx
from sandbox.errors import bad_request
from sandbox.events import emit
from sandbox.records import CustomField, EnumOption, Portfolio, Project, Record, Task

router = APIRouter()
MAX_ENUM_OPTIONS = 500
_TYPES = {"text", "number", "enum", "multi_enum", "date", "people"}


@router.get("/workspaces/{workspace_gid}/custom_fields")
def get_custom_fields_for_workspace(workspace_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        ctx.need(workspace_gid, "workspace")
        records: list[Record] = [c for c in ctx.store.custom_fields.values() if c.workspace == workspace_gid]
        return ctx.page(records)


@router.post("/custom_fields")
def create_custom_field(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        data = ctx.data()
        workspace = ctx.need_workspace(data.get("workspace"))
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise bad_request("name: Missing input")
        kind = data.get("resource_subtype") or data.get("type")
        if kind not in _TYPES:
            raise bad_request(f"resource_subtype: Must be one of {sorted(_TYPES)}")
        if any(c.name == name and c.workspace == workspace for c in ctx.store.custom_fields.values()):
            raise bad_request("name: A custom field with this name already exists in the workspace")
        precision = data.get("precision", 0)
        if kind == "number" and (not isinstance(precision, int) or not 0 <= precision <= 6):
            raise bad_request("precision: Must be an integer between 0 and 6")
        options = data.get("enum_options") or []
        cf = ctx.store.add_custom_field(
            workspace,
            name,
            kind,
            precision=int(precision or 0),
            description=str(data.get("description") or ""),
            format=str(data.get("format") or "none"),
            created_by=ctx.user.gid,
        )
        for option in options:
            if isinstance(option, dict) and option.get("name"):
                ctx.store.add_enum_option(
                    cf.gid, str(option["name"]), color=str(option.get("color") or "none")
                )
        return ctx.one(cf, 201)


@router.get("/custom_fields/{custom_field_gid}")
def get_custom_field(custom_field_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return ctx.one(ctx.need(custom_field_gid, "custom_field"))


@router.put("/custom_fields/{custom_field_gid}")
def update_custom_field(custom_field_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        cf: CustomField = ctx.need(custom_field_gid, "custom_field")
        data = ctx.data()
        if "resource_subtype" in data and data["resource_subtype"] != cf.resource_subtype:
            raise bad_request("resource_subtype: The type of a custom field cannot be changed")
        for key in ("name", "description", "format"):
            if key in data:
                setattr(cf, key, str(data[key]))
        if "precision" in data and cf.resource_subtype == "number":
            cf.precision = int(data["precision"])
        return ctx.one(cf)


@router.delete("/custom_fields/{custom_field_gid}")
def delete_custom_field(custom_field_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    """asana_oas.yaml paths./custom_fields/{custom_field_gid}.delete: 200 `{"data": {}}`; the field
    leaves every project/portfolio it was set on and every task/project value goes with it."""
    with ctx.lock:
        cf: CustomField = ctx.need(custom_field_gid, "custom_field")
        store = ctx.store
        owners: list[Project | Portfolio] = [*store.projects.values(), *store.portfolios.values()]
        for owner in owners:
            for setting_gid in list(owner.custom_field_settings):
                if store.field_settings[setting_gid].custom_field == cf.gid:
                    owner.custom_field_settings.remove(setting_gid)
                    store.remove(setting_gid)
        valued_records: list[Task | Project] = [*store.tasks.values(), *store.projects.values()]
        for valued in valued_records:
            valued.custom_fields.pop(cf.gid, None)
        for option_gid in cf.enum_options:
            store.remove(option_gid)
        emit(store, cf, "deleted", user=ctx.user.gid)
        store.remove(cf.gid)
        return ctx.empty()


@router.post("/custom_fields/{custom_field_gid}/enum_options")
def create_enum_option(custom_field_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        cf: CustomField = ctx.need(custom_field_gid, "custom_field")
        if cf.resource_subtype not in ("enum", "multi_enum"):
            raise bad_request("custom_field: Only enum fields have options")
        if len(cf.enum_options) >= MAX_ENUM_OPTIONS:
            raise bad_request(f"enum_options: At most {MAX_ENUM_OPTIONS} options")
        data = ctx.data()
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise bad_request("name: Missing input")
        option = ctx.store.add_enum_option(
            cf.gid, name, color=str(data.get("color") or "none"), enabled=bool(data.get("enabled", True))
        )
        for key, shift in (("insert_before", 0), ("insert_after", 1)):
            anchor = data.get(key)
            if anchor in cf.enum_options:
                cf.enum_options.remove(option.gid)
                cf.enum_options.insert(cf.enum_options.index(anchor) + shift, option.gid)
        return ctx.one(option, 201)


@router.put("/enum_options/{enum_option_gid}")
def update_enum_option(enum_option_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        option: EnumOption = ctx.need(enum_option_gid, "enum_option")
        data = ctx.data()
        if "name" in data:
            option.name = str(data["name"])
        if "color" in data:
            option.color = str(data["color"])
        if "enabled" in data:
            option.enabled = bool(data["enabled"])
        return ctx.one(option)


@router.get("/portfolios/{portfolio_gid}/custom_field_settings")
def get_custom_field_settings_for_portfolio(portfolio_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        portfolio = ctx.need(portfolio_gid, "portfolio")
        return ctx.page([ctx.store.field_settings[s] for s in portfolio.custom_field_settings])


@router.post("/portfolios/{portfolio_gid}/addCustomFieldSetting")
def add_custom_field_setting_for_portfolio(portfolio_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    """A portfolio's field is a column of its projects (each project then holds a value)."""
    with ctx.lock:
        portfolio: Portfolio = ctx.need(portfolio_gid, "portfolio")
        return add_setting(ctx, portfolio, "portfolio")


@router.post("/portfolios/{portfolio_gid}/removeCustomFieldSetting")
def remove_custom_field_setting_for_portfolio(portfolio_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        portfolio: Portfolio = ctx.need(portfolio_gid, "portfolio")
        return remove_setting(ctx, portfolio, "portfolio")
