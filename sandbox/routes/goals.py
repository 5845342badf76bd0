"""Goals and goal relationships (asana_oas.yaml tags "Goals" and "Goal relationships").

Goals are a premium feature (402 on a free plan, sandbox/premium.py). Who sees a goal follows its
`privacy_setting` (sandbox/access.py); one the user cannot see answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from sandbox import goals as G
from sandbox import richtext
from sandbox.actions.tasks import gid_list
from sandbox.context import Ctx, build_ctx
from sandbox.errors import bad_request
from sandbox.events import change, emit
from sandbox.records import Goal, GoalRelationship, Record

router = APIRouter()

_GOAL_WRITABLE = ("name", "due_on", "start_on", "time_period", "is_workspace_level")
# GET /goals filters that name a supporting resource (asana_oas.yaml paths./goals.get).
_SUPPORTING_FILTERS = (("project", "project"), ("portfolio", "portfolio"), ("task", "task"))
_RELATIONSHIP_SUBTYPES = ("subgoal", "supporting_work")


def _goal(ctx: Ctx, gid: str) -> Goal:
    goal: Goal = ctx.need(gid, "goal")
    return goal


def _number(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(f"{key}: Value is not a number")
    return float(value)


def _dates(data: dict[str, Any], goal: Goal | None) -> None:
    # GoalBase.start_on: "cannot be set unless there is an accompanying due date".
    due = data.get("due_on", goal.due_on if goal else None)
    if data.get("start_on") is not None and due is None:
        raise bad_request("start_on: Cannot set a start date without a due date")


def _notes(data: dict[str, Any], goal: Goal) -> None:
    if data.get("html_notes") is not None:
        goal.html_notes, goal.notes = richtext.validated("html_notes", data["html_notes"], "notes")
    elif "notes" in data:
        goal.notes, goal.html_notes = str(data.get("notes") or ""), None


# ---- goals ----------------------------------------------------------------------------------
@router.get("/goals")
def get_goals(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        records: list[Goal] = list(G.goals(ctx.store).values())
        workspace, team = ctx.query("workspace"), ctx.query("team")
        named = [(q, t) for q, t in _SUPPORTING_FILTERS if ctx.query(q)]
        if not (workspace or team or named):
            raise bad_request("workspace: Missing input (or team, project, portfolio, task)")
        if workspace:
            ctx.need_workspace(workspace)
            records = [g for g in records if g.workspace == workspace]
        if team:
            ctx.need(team, "team", field="team")
            records = [g for g in records if g.team == team]
        for query, rtype in named:
            resource = ctx.need(str(ctx.query(query)), rtype, field=query)
            supported = {g.gid for g in G.supported_by(ctx.store, resource.gid)}
            records = [g for g in records if g.gid in supported]
        level = ctx.query("is_workspace_level")
        if level is not None:
            if not workspace:
                raise bad_request("is_workspace_level: Must be used with the workspace parameter")
            records = [g for g in records if g.is_workspace_level == (level == "true")]
        periods = ctx.query("time_periods")
        if periods:
            wanted = set(periods.split(","))
            records = [g for g in records if g.time_period in wanted]
        visible: list[Record] = [g for g in records if g.workspace in ctx.user.workspaces and ctx.sees(g)]
        return ctx.page(visible)


@router.post("/goals")
def create_goal(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        data = ctx.data()
        workspace = ctx.need_workspace(data.get("workspace"))
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad_request("name: Missing input")
        team = data.get("team")
        if team is not None and ctx.need(str(team), "team", field="team").workspace != workspace:
            raise bad_request("team: The team is not in the goal's workspace")
        _dates(data, None)
        owner = ctx.resolve_user(data.get("owner"), "owner")
        followers = [
            ctx.resolve_user(f, "followers") for f in gid_list(data.get("followers") or [], "followers")
        ]
        goal = G.add_goal(
            ctx.store,
            workspace,
            name,
            team=str(team) if team is not None else None,
            owner=owner,
            due_on=data.get("due_on"),
            start_on=data.get("start_on"),
            # The creator is a member, as in Asana (a members-only goal stays visible to them).
            followers=[ctx.user.gid, *(f for f in followers if f)],
            time_period=data.get("time_period"),
        )
        if "is_workspace_level" in data:
            goal.is_workspace_level = bool(data["is_workspace_level"])
        _notes(data, goal)
        emit(ctx.store, goal, "added", user=ctx.user.gid, parent=ctx.store.workspaces[workspace])
        return ctx.one(goal, 201)


@router.get("/goals/{goal_gid}")
def get_goal(goal_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return ctx.one(_goal(ctx, goal_gid))


@router.put("/goals/{goal_gid}")
def update_goal(goal_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        goal = _goal(ctx, goal_gid)
        data = ctx.data()
        if "status" in data:
            status = data["status"]
            if status is not None and status not in (*G.OPEN_STATUSES, *G.CLOSED_STATUSES):
                raise bad_request(f"status: Not a valid enum value: {status!r}")
            # GoalUpdateRequest.status: "you can only write to this property if `metric` is set".
            if goal.metric is None:
                raise bad_request("status: A goal needs a metric before its status can be set")
        if not isinstance(data.get("name", goal.name), str) or not data.get("name", goal.name):
            raise bad_request("name: Value is not a non-empty string")
        _dates(data, goal)
        if "owner" in data:
            goal.owner = ctx.resolve_user(data["owner"], "owner")
        if "team" in data and data["team"] is not None:
            ctx.need(str(data["team"]), "team", field="team")
        _notes(data, goal)
        for key in (*_GOAL_WRITABLE, "status", "team"):
            if key in data and getattr(goal, key) != data[key]:
                setattr(goal, key, data[key])
                emit(ctx.store, goal, "changed", user=ctx.user.gid, change=change(key))
        return ctx.one(goal)


@router.delete("/goals/{goal_gid}")
def delete_goal(goal_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        goal = _goal(ctx, goal_gid)
        for rel in list(G.relationships(ctx.store).values()):
            if goal_gid in (rel.supported_goal, rel.supporting_resource):
                ctx.store.remove(rel.gid)
        emit(ctx.store, goal, "deleted", user=ctx.user.gid)
        ctx.store.remove(goal_gid)
        return ctx.empty()


@router.post("/goals/{goal_gid}/setMetric")
def set_metric(goal_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    """Creates the goal's metric, replacing one that exists (paths./goals/{goal_gid}/setMetric)."""
    with ctx.lock:
        goal = _goal(ctx, goal_gid)
        data = ctx.data()
        checks = (
            ("progress_source", G.PROGRESS_SOURCES),
            ("unit", G.METRIC_UNITS),
            ("resource_subtype", ("number",)),
        )
        for key, allowed in checks:
            if key in data and data[key] not in allowed:
                raise bad_request(f"{key}: Not a valid enum value: {data[key]!r}")
        precision = data.get("precision", 2)
        if not isinstance(precision, int) or not 0 <= precision <= 6:
            raise bad_request("precision: Must be an integer between 0 and 6")
        if str(data.get("progress_source") or "manual") not in G.AUTOMATIC_SOURCES:
            initial, target = (
                _number(data, "initial_number_value") or 0.0,
                _number(data, "target_number_value"),
            )
            _number(data, "current_number_value")
            if target is None:
                raise bad_request("target_number_value: Missing input")
            if target == initial:
                raise bad_request("target_number_value: Cannot equal initial_number_value")
        goal.metric = G.new_metric(data)
        emit(ctx.store, goal, "changed", user=ctx.user.gid, change=change("metric"))
        return ctx.one(goal)


@router.post("/goals/{goal_gid}/setMetricCurrentValue")
def set_metric_current_value(goal_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        goal = _goal(ctx, goal_gid)
        value = _number(ctx.data(), "current_number_value")
        if value is None:
            raise bad_request("current_number_value: Missing input")
        if goal.metric is None:
            raise bad_request("metric: The goal has no metric")
        if goal.metric["progress_source"] in G.AUTOMATIC_SOURCES:
            source = goal.metric["progress_source"]
            raise bad_request(f"current_number_value: The metric's progress comes from {source}")
        goal.metric["current_number_value"] = round(value, int(goal.metric["precision"]))
        emit(ctx.store, goal, "changed", user=ctx.user.gid, change=change("metric"))
        return ctx.one(goal)


def _followers(ctx: Ctx, goal_gid: str, add: bool) -> Response:
    goal = _goal(ctx, goal_gid)
    data = ctx.data()
    if data.get("followers") is None:
        raise bad_request("followers: Missing input")
    for ref in gid_list(data["followers"], "followers"):
        user = ctx.resolve_user(ref, "followers")
        if add and user and user not in goal.followers:
            goal.followers.append(user)
        elif not add and user in goal.followers:
            goal.followers.remove(user)
    return ctx.one(goal)


@router.post("/goals/{goal_gid}/addFollowers")
def add_followers(goal_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return _followers(ctx, goal_gid, True)


@router.post("/goals/{goal_gid}/removeFollowers")
def remove_followers(goal_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return _followers(ctx, goal_gid, False)


@router.get("/goals/{goal_gid}/parentGoals")
def get_parent_goals(goal_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        goal = _goal(ctx, goal_gid)
        parents: list[Record] = [g for g in G.supported_by(ctx.store, goal.gid) if ctx.sees(g)]
        return ctx.page(parents)


# ---- goal relationships ---------------------------------------------------------------------
def _weight(data: dict[str, Any]) -> float | None:
    weight = _number(data, "contribution_weight")
    if weight is not None and not 0 <= weight <= 1:
        raise bad_request("contribution_weight: Must be between 0 and 1")
    return weight


@router.post("/goals/{goal_gid}/addSupportingRelationship")
def add_supporting_relationship(goal_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        goal = _goal(ctx, goal_gid)
        data = ctx.data()
        if not data.get("supporting_resource"):
            raise bad_request("supporting_resource: Missing input")
        resource = ctx.need(
            str(data["supporting_resource"]),
            "goal",
            "project",
            "portfolio",
            "task",
            field="supporting_resource",
        )
        if resource.workspace != goal.workspace:
            raise bad_request("supporting_resource: Not in the goal's workspace")
        if isinstance(resource, Goal) and G.would_cycle(ctx.store, goal.gid, resource.gid):
            raise bad_request(
                "supporting_resource: A goal cannot support itself, directly or through subgoals"
            )
        if (data.get("insert_before") or data.get("insert_after")) and not isinstance(resource, Goal):
            raise bad_request("insert_before: Only supported when adding a subgoal")
        weight = _weight(data)
        rel = G.add_supporting(ctx.store, goal.gid, resource.gid, contribution_weight=weight or 0.0)
        emit(ctx.store, rel, "added", user=ctx.user.gid, parent=goal, extra_scopes=[goal.gid])
        return ctx.one(rel)


@router.post("/goals/{goal_gid}/removeSupportingRelationship")
def remove_supporting_relationship(goal_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        goal = _goal(ctx, goal_gid)
        data = ctx.data()
        if not data.get("supporting_resource"):
            raise bad_request("supporting_resource: Missing input")
        resource = str(data["supporting_resource"])
        for rel in G.supporting(ctx.store, goal.gid):
            if rel.supporting_resource == resource:
                emit(ctx.store, rel, "removed", user=ctx.user.gid, parent=goal, extra_scopes=[goal.gid])
                ctx.store.remove(rel.gid)
        return ctx.empty()


@router.get("/goal_relationships")
def get_goal_relationships(ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        supported = ctx.query("supported_goal")
        if supported is None:
            raise bad_request("supported_goal: Missing input")
        goal = ctx.need(supported, "goal", field="supported_goal")
        subtype = ctx.query("resource_subtype")
        if subtype is not None and subtype not in _RELATIONSHIP_SUBTYPES:
            raise bad_request(f"resource_subtype: Not a valid enum value: {subtype!r}")
        records: list[Record] = [
            r
            for r in G.supporting(ctx.store, goal.gid)
            if subtype in (None, r.resource_subtype) and _resource_visible(ctx, r)
        ]
        return ctx.page(records)


def _resource_visible(ctx: Ctx, rel: GoalRelationship) -> bool:
    resource = ctx.store.get(rel.supporting_resource)
    return resource is not None and ctx.sees(resource)


@router.get("/goal_relationships/{goal_relationship_gid}")
def get_goal_relationship(goal_relationship_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        return ctx.one(ctx.need(goal_relationship_gid, "goal_relationship"))


@router.put("/goal_relationships/{goal_relationship_gid}")
def update_goal_relationship(goal_relationship_gid: str, ctx: Ctx = Depends(build_ctx)) -> Response:
    with ctx.lock:
        rel: GoalRelationship = ctx.need(goal_relationship_gid, "goal_relationship")
        weight = _weight(ctx.data())
        if weight is not None:
            rel.contribution_weight = weight
        return ctx.one(rel)
