"""Webhook endpoints (handshake runs while POST /webhooks is in flight) and the events API."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from sandbox.context import Ctx, build_ctx, json_response
from sandbox.errors import bad_request, error_body
from sandbox.events import MAX_WORKSPACE_EVENTS_PER_CALL
from sandbox.records import Record, Webhook
from sandbox.serialize import event_json
from sandbox.webhooks import check_target, validate_filters

router = APIRouter()
_EVENT_RESOURCES = frozenset({"task", "project", "goal"})


@router.post("/webhooks")
def create_webhook(ctx: Ctx = Depends(build_ctx)) -> Response:
    data = ctx.data()
    resource_gid, target = data.get("resource"), data.get("target")
    if not resource_gid:
        raise bad_request("resource: Missing input")
    if not isinstance(target, str) or not target:
        raise bad_request("target: Missing input")
    check_target(target, ctx.services.dispatcher.settings.allow_local_targets)
    with ctx.lock:
        resource = ctx.need(str(resource_gid), field="resource")
        if resource.resource_type not in {
            "task",
            "project",
            "workspace",
            "team",
            "portfolio",
            "tag",
            "section",
            "goal",
        }:
            raise bad_request(f"resource: Webhooks are not supported on a {resource.resource_type}")
        filters = validate_filters(resource.resource_type, data.get("filters"))
    # No store lock during the handshake: the receiver may call back into the sandbox.
    secret = ctx.services.dispatcher.handshake(target)
    with ctx.lock:
        hook = Webhook(
            gid=ctx.store.new_gid(),
            resource=resource.gid,
            target=target,
            secret=secret,
            created_at=ctx.store.now(),
            created_by_token=ctx.token,
            filters=filters,
        )
        ctx.store._put(hook)
        payload = {"data": ctx.render(hook), "X-Hook-Secret": secret}
    return json_response(payload, 201, {"X-Hook-Secret": secret})


@router.get("/webhooks")
def get_webhooks(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        workspace = ctx.need_workspace(ctx.query("workspace"))
        resource = ctx.query("resource")
        hooks: list[Record] = [
            h
            for h in ctx.store.webhooks.values()
            if ctx.store.workspace_of(h) == workspace
            and (resource is None or h.resource == resource)
            and h.created_by_token == ctx.token
        ]
        return ctx.page(hooks)


@router.get("/webhooks/{webhook_gid}")
def get_webhook(webhook_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return ctx.one(ctx.need(webhook_gid, "webhook"))


@router.put("/webhooks/{webhook_gid}")
def update_webhook(webhook_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        hook: Webhook = ctx.need(webhook_gid, "webhook")
        resource = ctx.store.index.get(hook.resource)
        hook.filters = validate_filters(
            resource.resource_type if resource else "task", ctx.data().get("filters")
        )
        return ctx.one(hook)


@router.delete("/webhooks/{webhook_gid}")
def delete_webhook(webhook_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        hook: Webhook = ctx.need(webhook_gid, "webhook")
        hook.active = False
        ctx.store.remove(hook.gid)
    ctx.services.dispatcher.forget(webhook_gid)
    return ctx.empty()


@router.get("/events")
def get_events(ctx: Ctx = Depends(build_ctx)) -> Response:
    resource_gid = ctx.query("resource")
    if resource_gid is None:
        raise bad_request("resource: Missing input")
    with ctx.lock:
        resource = ctx.need(resource_gid, field="resource")
        # asana_oas.yaml paths./events.get: "The resource can be a task, project, or goal";
        # workspaces have their own endpoint (/workspaces/{gid}/events).
        if resource.resource_type not in _EVENT_RESOURCES:
            raise bad_request(
                "resource: Events are only available for tasks, projects and goals, "
                f"not a {resource.resource_type}"
            )
        cursor = ctx.services.events_cursor
        result = cursor.read(resource_gid, ctx.query("sync"))
        if result is None:
            body = error_body(
                412,
                "Sync token invalid or too old. If you are attempting to keep resources in "
                "sync, you must fetch the full dataset for this query now and use the new "
                "sync token for the next sync.",
            )
            body["sync"] = cursor.fresh_token(resource_gid)
            return json_response(body, 412)
        events, token, has_more = result
        return json_response(
            {"data": [event_json(ctx.store, e) for e in events], "sync": token, "has_more": has_more}
        )


@router.get("/workspaces/{workspace_gid}/events")
def get_workspace_events(workspace_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        ctx.need(workspace_gid, "workspace")
        cursor = ctx.services.events_cursor
        result = cursor.read(workspace_gid, ctx.query("sync"), MAX_WORKSPACE_EVENTS_PER_CALL)
        if result is None:
            body = error_body(412, "Sync token invalid or too old.")
            body["sync"] = cursor.fresh_token(workspace_gid)
            return json_response(body, 412)
        events, token, has_more = result
        return json_response(
            {"data": [event_json(ctx.store, e) for e in events], "sync": token, "has_more": has_more}
        )
