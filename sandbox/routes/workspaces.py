"""Workspaces, users (including "me") and teams."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from sandbox.context import Ctx, build_ctx
from sandbox.errors import bad_request
from sandbox.records import Record

router = APIRouter()


@router.get("/workspaces")
def get_workspaces(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        records: list[Record] = [
            ctx.store.workspaces[w] for w in ctx.user.workspaces if w in ctx.store.workspaces
        ]
        return ctx.page(records)


@router.get("/workspaces/{workspace_gid}")
def get_workspace(workspace_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return ctx.one(ctx.need(workspace_gid, "workspace"))


def _users_of(ctx: Ctx, workspace_gid: str) -> Response:
    workspace = ctx.need(workspace_gid, "workspace")
    records: list[Record] = [ctx.store.users[u] for u in workspace.members if u in ctx.store.users]
    return ctx.page(records)


@router.get("/workspaces/{workspace_gid}/users")
def get_users_for_workspace(workspace_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return _users_of(ctx, workspace_gid)


@router.get("/users")
def get_users(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        workspace = ctx.query("workspace")
        if workspace:
            return _users_of(ctx, workspace)
        seen: dict[str, Record] = {}
        for ws in ctx.user.workspaces:
            for user_gid in ctx.store.workspaces[ws].members:
                seen.setdefault(user_gid, ctx.store.users[user_gid])
        return ctx.page(list(seen.values()))


@router.get("/users/{user_gid}")
def get_user(user_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        user = ctx.need(user_gid, "user")
        if user.gid != ctx.user.gid and not set(user.workspaces) & set(ctx.user.workspaces):
            raise bad_request("user: Not a recognized ID")
        return ctx.one(user)


@router.get("/users/{user_gid}/teams")
def get_teams_for_user(user_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        user = ctx.need(user_gid, "user")
        organization = ctx.query("organization") or ctx.query("workspace")
        if organization is None:
            raise bad_request("organization: Missing input")
        ctx.need_workspace(organization, "organization")
        records: list[Record] = [
            t for t in ctx.store.teams.values() if t.workspace == organization and user.gid in t.members
        ]
        return ctx.page(records)


@router.get("/workspaces/{workspace_gid}/teams")
def get_teams_for_workspace(workspace_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        ctx.need(workspace_gid, "workspace")
        records: list[Record] = [t for t in ctx.store.teams.values() if t.workspace == workspace_gid]
        return ctx.page(records)


@router.get("/teams/{team_gid}")
def get_team(team_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return ctx.one(ctx.need(team_gid, "team"))


@router.get("/teams/{team_gid}/users")
def get_users_for_team(team_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        team = ctx.need(team_gid, "team")
        records: list[Record] = [ctx.store.users[u] for u in team.members if u in ctx.store.users]
        return ctx.page(records)
