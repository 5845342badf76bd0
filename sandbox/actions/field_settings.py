"""Adding and removing a custom field setting on a project or a portfolio (same rules for both)."""

from __future__ import annotations

from starlette.responses import Response

from sandbox.context import Ctx
from sandbox.errors import bad_request
from sandbox.records import Portfolio, Project


def add_setting(ctx: Ctx, owner: Project | Portfolio, label: str) -> Response:
    """`POST /{projects|portfolios}/{gid}/addCustomFieldSetting`; `label` names the owner in errors."""
    data = ctx.data()
    if not data.get("custom_field"):
        raise bad_request("custom_field: Missing input")
    cf = ctx.need(str(data["custom_field"]), "custom_field", field="custom_field")
    if cf.workspace != owner.workspace:
        raise bad_request("custom_field: The custom field is in another workspace")
    if any(ctx.store.field_settings[s].custom_field == cf.gid for s in owner.custom_field_settings):
        raise bad_request(f"custom_field: This custom field is already on the {label}")
    setting = ctx.store.add_field_setting(owner.gid, cf.gid, is_important=bool(data.get("is_important")))
    return ctx.one(setting)


def remove_setting(ctx: Ctx, owner: Project | Portfolio, label: str) -> Response:
    """`POST /{projects|portfolios}/{gid}/removeCustomFieldSetting`."""
    cf_gid = str(ctx.data().get("custom_field") or "")
    for setting_gid in list(owner.custom_field_settings):
        if ctx.store.field_settings[setting_gid].custom_field == cf_gid:
            owner.custom_field_settings.remove(setting_gid)
            ctx.store.remove(setting_gid)
            return ctx.empty()
    raise bad_request(f"custom_field: This custom field is not on the {label}")
