"""Read operations. Each returns pydantic models and costs one request per 100 items."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import asana

from tools.asana import fields as F
from tools.asana.core import ClientCore
from tools.asana.errors import AmbiguousName, NotFound
from tools.asana.field_map import FieldMap
from tools.asana.fields import TaskView
from tools.asana.models import (
    Attachment,
    CustomField,
    CustomFieldSetting,
    Goal,
    GoalRelationship,
    Portfolio,
    Project,
    Section,
    StatusUpdate,
    Story,
    Tag,
    Task,
    TaskCounts,
    Team,
    User,
    Workspace,
)
from tools.asana.snapshot import project_tasks_key, snapshot_read
from tools.names import did_you_mean


def _since(value: str | dt.datetime | dt.date | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


# Who a token is changes only with the user's own profile (name, email): ten minutes old is fine.
ME_TTL_S = 600.0


class ReadOps(ClientCore):
    _me: tuple[float, User] | None = None  # (when, who): see me()

    # --- workspace ----------------------------------------------------------------------------

    def me(self) -> User:
        """The token's own user, kept by this client for `ME_TTL_S`: several routes and agents ask
        on every event (issue 23: calls per event)."""
        api = self.api(asana.UsersApi)

        def read() -> User:
            data = self._one(
                "GET /users/{gid}", lambda kw: api.get_user("me", {"opt_fields": F.ME}, **kw), gid="me"
            )
            return User.model_validate(data)

        now = time.monotonic()
        if self._me is None or now - self._me[0] > ME_TTL_S:
            self._me = (now, read())
        return self._me[1].model_copy()

    def forget_me(self) -> None:
        """Ask Asana who the token is on the next `me()`."""
        self._me = None

    def workspaces(self) -> list[Workspace]:
        api = self.api(asana.WorkspacesApi)
        rows = self._pages("GET /workspaces", lambda o, kw: api.get_workspaces(o, **kw), F.WORKSPACE)
        return [Workspace.model_validate(r) for r in rows]

    def users(self, workspace_gid: str) -> list[User]:
        api = self.api(asana.UsersApi)
        rows = self._pages(
            "GET /workspaces/{gid}/users",
            lambda o, kw: api.get_users_for_workspace(workspace_gid, o, **kw),
            F.USER,
            gid=workspace_gid,
        )
        return [User.model_validate(r) for r in rows]

    def teams(self, workspace_gid: str) -> list[Team]:
        api = self.api(asana.TeamsApi)
        rows = self._pages(
            "GET /workspaces/{gid}/teams",
            lambda o, kw: api.get_teams_for_workspace(workspace_gid, o, **kw),
            F.TEAM,
            gid=workspace_gid,
        )
        return [Team.model_validate(r) for r in rows]

    def tags(self, workspace_gid: str) -> list[Tag]:
        api = self.api(asana.TagsApi)
        rows = self._pages(
            "GET /workspaces/{gid}/tags",
            lambda o, kw: api.get_tags_for_workspace(workspace_gid, o, **kw),
            F.TAG,
            gid=workspace_gid,
        )
        return [Tag.model_validate(r) for r in rows]

    def custom_fields(self, workspace_gid: str) -> list[CustomField]:
        api = self.api(asana.CustomFieldsApi)
        rows = self._pages(
            "GET /workspaces/{gid}/custom_fields",
            lambda o, kw: api.get_custom_fields_for_workspace(workspace_gid, o, **kw),
            F.CUSTOM_FIELD,
            gid=workspace_gid,
        )
        return [CustomField.model_validate(r) for r in rows]

    # --- projects -----------------------------------------------------------------------------

    def projects(self, workspace_gid: str, archived: bool | None = False) -> list[Project]:
        """Projects of a workspace; archived=None lists archived and active ones alike."""
        api = self.api(asana.ProjectsApi)
        query = {} if archived is None else {"archived": archived}
        rows = self._pages(
            "GET /workspaces/{gid}/projects",
            lambda o, kw: api.get_projects_for_workspace(workspace_gid, o, **kw),
            F.PROJECT,
            query,
            gid=workspace_gid,
        )
        return [Project.model_validate(r) for r in rows]

    def project(self, gid: str) -> Project:
        return snapshot_read(self, ("project", gid), lambda: self._project(gid, F.PROJECT), lasting=True)

    def _project(self, gid: str, fields: str) -> Project:
        api = self.api(asana.ProjectsApi)
        data = self._one(
            "GET /projects/{gid}", lambda kw: api.get_project(gid, {"opt_fields": fields}, **kw), gid=gid
        )
        return Project.model_validate(data)

    def find_project(self, workspace_gid: str, name_or_gid: str) -> Project:
        """A project by gid or by name (exact, then case-insensitive; active before archived)."""
        wanted = name_or_gid.strip()
        if wanted.isdigit():
            return self.project(wanted)
        return pick_project(self.projects(workspace_gid, archived=None), wanted, workspace_gid)

    def project_access(self, workspace_gid: str) -> list[Project]:
        """Every project of a workspace (archived too) with who may see it: privacy, team, members."""
        api = self.api(asana.ProjectsApi)
        rows = self._pages(
            "GET /workspaces/{gid}/projects",
            lambda o, kw: api.get_projects_for_workspace(workspace_gid, o, **kw),
            F.PROJECT_ACCESS,
            gid=workspace_gid,
        )
        return [Project.model_validate(r) for r in rows]

    def project_access_for(self, gid: str) -> Project:
        """One project with who may see it (as `project_access` lists them)."""
        return self._project(gid, F.PROJECT_ACCESS)

    def team_members(self, team_gid: str) -> list[User]:
        api = self.api(asana.UsersApi)
        rows = self._pages(
            "GET /teams/{gid}/users",
            lambda o, kw: api.get_users_for_team(team_gid, o, **kw),
            F.USER,
            gid=team_gid,
        )
        return [User.model_validate(r) for r in rows]

    def sections(self, project_gid: str) -> list[Section]:
        api = self.api(asana.SectionsApi)
        rows = self._pages(
            "GET /projects/{gid}/sections",
            lambda o, kw: api.get_sections_for_project(project_gid, o, **kw),
            F.SECTION,
            gid=project_gid,
        )
        return [Section.model_validate(r) for r in rows]

    def section(self, gid: str) -> Section:
        api = self.api(asana.SectionsApi)
        data = self._one(
            "GET /sections/{gid}", lambda kw: api.get_section(gid, {"opt_fields": F.SECTION}, **kw), gid=gid
        )
        return Section.model_validate(data)

    def custom_field_settings(self, project_gid: str) -> list[CustomFieldSetting]:
        api = self.api(asana.CustomFieldSettingsApi)
        rows = self._pages(
            "GET /projects/{gid}/custom_field_settings",
            lambda o, kw: api.get_custom_field_settings_for_project(project_gid, o, **kw),
            F.CUSTOM_FIELD_SETTING,
            gid=project_gid,
        )
        return [CustomFieldSetting.model_validate(r) for r in rows]

    def field_map(self, project_gid: str, *, refresh: bool = False) -> FieldMap:
        """Custom fields of a project by name; fetched once per client unless `refresh`."""
        return self._cached_field_map(
            project_gid, refresh, lambda: FieldMap(project_gid, self.custom_field_settings(project_gid))
        )

    def _cached_field_map(self, gid: str, refresh: bool, load: Callable[[], FieldMap]) -> FieldMap:
        with self._lock:
            cached = None if refresh else self._field_maps.get(gid)
        if cached is not None:
            return cached
        fmap = load()
        with self._lock:
            self._field_maps[gid] = fmap
        return fmap

    def task_counts(self, project_gid: str) -> TaskCounts:
        api = self.api(asana.ProjectsApi)
        data = self._one(
            "GET /projects/{gid}/task_counts",
            lambda kw: api.get_task_counts_for_project(project_gid, {"opt_fields": F.TASK_COUNTS}, **kw),
            gid=project_gid,
        )
        return TaskCounts.model_validate(data)

    # --- tasks --------------------------------------------------------------------------------

    def project_tasks(
        self,
        project_gid: str,
        view: TaskView = TaskView.PLANNING,
        completed_since: str | dt.datetime | dt.date | None = None,
    ) -> list[Task]:
        """Every task of a project with the view's fields: one request per 100 tasks.

        `completed_since="now"` keeps only incomplete tasks; a date/time keeps incomplete tasks
        plus those completed since then.
        """
        api = self.api(asana.TasksApi)
        since = _since(completed_since)

        def read() -> list[Task]:
            rows = self._pages(
                "GET /projects/{gid}/tasks",
                lambda o, kw: api.get_tasks_for_project(project_gid, o, **kw),
                view.opt_fields,
                {"completed_since": since} if since else None,
                gid=project_gid,
            )
            return [Task.model_validate(r) for r in rows]

        # One handling is one moment: "now" means the same time for every read in it.
        return list(snapshot_read(self, project_tasks_key(project_gid, view, since), read))

    def project_tasks_modified_since(
        self, project_gid: str, since: dt.datetime, view: TaskView = TaskView.PLANNING
    ) -> list[Task]:
        """The project's tasks modified after `since` (`GET /tasks?project=…&modified_since=…`):
        one request while fewer than 100 changed (tools/asana/task_index.py keeps the rest)."""
        api = self.api(asana.TasksApi)
        rows = self._pages(
            "GET /tasks",
            lambda o, kw: api.get_tasks(o, **kw),
            view.opt_fields,
            {"project": project_gid, "modified_since": since.isoformat()},
        )
        return [Task.model_validate(r) for r in rows]

    def section_tasks(self, section_gid: str, view: TaskView = TaskView.PLANNING) -> list[Task]:
        api = self.api(asana.TasksApi)
        rows = self._pages(
            "GET /sections/{gid}/tasks",
            lambda o, kw: api.get_tasks_for_section(section_gid, o, **kw),
            view.opt_fields,
            gid=section_gid,
        )
        return [Task.model_validate(r) for r in rows]

    def task(self, gid: str, view: TaskView = TaskView.DETAIL) -> Task:
        api = self.api(asana.TasksApi)

        def read() -> Task:
            data = self._one(
                "GET /tasks/{gid}",
                lambda kw: api.get_task(gid, {"opt_fields": view.opt_fields}, **kw),
                gid=gid,
            )
            return Task.model_validate(data)

        return snapshot_read(self, ("task", gid, view), read)

    def subtasks(self, task_gid: str, view: TaskView = TaskView.PLANNING) -> list[Task]:
        api = self.api(asana.TasksApi)
        rows = self._pages(
            "GET /tasks/{gid}/subtasks",
            lambda o, kw: api.get_subtasks_for_task(task_gid, o, **kw),
            view.opt_fields,
            gid=task_gid,
        )
        return [Task.model_validate(r) for r in rows]

    def stories(self, task_gid: str) -> list[Story]:
        """Comments and system stories of a task, oldest first."""
        api = self.api(asana.StoriesApi)

        def read() -> list[Story]:
            rows = self._pages(
                "GET /tasks/{gid}/stories",
                lambda o, kw: api.get_stories_for_task(task_gid, o, **kw),
                F.STORY,
                gid=task_gid,
            )
            return [Story.model_validate(r) for r in rows]

        return list(snapshot_read(self, ("stories", task_gid), read))

    def stories_many(self, task_gids: Iterable[str], *, max_workers: int = 8) -> dict[str, list[Story]]:
        """Stories of many tasks, fetched in parallel (still ≤ the client's read cap in flight)."""
        gids = list(dict.fromkeys(task_gids))
        workers = max(1, min(max_workers, self.limits.max_reads, len(gids) or 1))
        with ThreadPoolExecutor(workers, thread_name_prefix="asana-stories") as pool:
            return dict(zip(gids, pool.map(self.stories, gids), strict=True))

    # --- status, portfolios, attachments ------------------------------------------------------

    def status_updates(self, parent_gid: str) -> list[StatusUpdate]:
        api = self.api(asana.StatusUpdatesApi)
        rows = self._pages(
            "GET /status_updates",
            lambda o, kw: api.get_statuses_for_object(parent_gid, o, **kw),
            F.STATUS_UPDATE,
        )
        return [StatusUpdate.model_validate(r) for r in rows]

    def portfolios(self, workspace_gid: str, owner_gid: str = "me") -> list[Portfolio]:
        api = self.api(asana.PortfoliosApi)
        rows = self._pages(
            "GET /portfolios",
            lambda o, kw: api.get_portfolios(workspace_gid, o, **kw),
            F.PORTFOLIO,
            {"owner": owner_gid},
        )
        return [Portfolio.model_validate(r) for r in rows]

    def portfolio(self, gid: str) -> Portfolio:
        api = self.api(asana.PortfoliosApi)
        data = self._one(
            "GET /portfolios/{gid}",
            lambda kw: api.get_portfolio(gid, {"opt_fields": F.PORTFOLIO}, **kw),
            gid=gid,
        )
        return Portfolio.model_validate(data)

    def portfolio_items(self, portfolio_gid: str) -> list[Project]:
        return self._portfolio_items(portfolio_gid, F.PORTFOLIO_ITEM)

    def project_with_fields(self, gid: str) -> Project:
        """One project with its own custom field values (e.g. a portfolio's Health)."""
        return self._project(gid, F.PROJECT_CUSTOM_FIELDS)

    def portfolio_items_with_fields(self, portfolio_gid: str) -> list[Project]:
        """A portfolio's projects with their custom field values, in one paginated read."""
        return self._portfolio_items(portfolio_gid, F.PORTFOLIO_ITEM_CUSTOM_FIELDS)

    def _portfolio_items(self, portfolio_gid: str, fields: str) -> list[Project]:
        api = self.api(asana.PortfoliosApi)
        rows = self._pages(
            "GET /portfolios/{gid}/items",
            lambda o, kw: api.get_items_for_portfolio(portfolio_gid, o, **kw),
            fields,
            gid=portfolio_gid,
        )
        return [Project.model_validate(r) for r in rows]

    def portfolio_custom_field_settings(self, portfolio_gid: str) -> list[CustomFieldSetting]:
        api = self.api(asana.CustomFieldSettingsApi)
        rows = self._pages(
            "GET /portfolios/{gid}/custom_field_settings",
            lambda o, kw: api.get_custom_field_settings_for_portfolio(portfolio_gid, o, **kw),
            F.CUSTOM_FIELD_SETTING,
            gid=portfolio_gid,
        )
        return [CustomFieldSetting.model_validate(r) for r in rows]

    def portfolio_field_map(self, portfolio_gid: str, *, refresh: bool = False) -> FieldMap:
        """The portfolio's fields by name (they are the fields its projects hold); cached like field_map."""

        def load() -> FieldMap:
            settings = self.portfolio_custom_field_settings(portfolio_gid)
            name = next((s.parent.name for s in settings if s.parent and s.parent.name), None)
            return FieldMap(portfolio_gid, settings, name)

        return self._cached_field_map(portfolio_gid, refresh, load)

    def attachments(self, parent_gid: str) -> list[Attachment]:
        api = self.api(asana.AttachmentsApi)
        rows = self._pages(
            "GET /attachments",
            lambda o, kw: api.get_attachments_for_object(parent_gid, o, **kw),
            F.ATTACHMENT,
        )
        return [Attachment.model_validate(r) for r in rows]

    # --- goals (a premium feature: PaymentRequired on a free plan) ----------------------------

    def goals(self, workspace_gid: str) -> list[Goal]:
        """The workspace's goals the token's user can see."""
        return self._goals({"workspace": workspace_gid})

    def goals_supported_by(self, resource_gid: str, resource_type: str = "project") -> list[Goal]:
        """Goals that a project (or a portfolio, a task) supports: `GET /goals?project=…`."""
        if resource_type not in ("project", "portfolio", "task"):
            raise ValueError(f"goals are supported by projects, portfolios or tasks, not {resource_type!r}")
        return self._goals({resource_type: resource_gid})

    def _goals(self, query: dict[str, str]) -> list[Goal]:
        api = self.api(asana.GoalsApi)
        rows = self._pages("GET /goals", lambda o, kw: api.get_goals(o, **kw), F.GOAL_LISTED, query)
        return [Goal.model_validate(r) for r in rows]

    def goal(self, gid: str) -> Goal:
        """One goal with its metric."""
        api = self.api(asana.GoalsApi)
        data = self._one(
            "GET /goals/{gid}", lambda kw: api.get_goal(gid, {"opt_fields": F.GOAL}, **kw), gid=gid
        )
        return Goal.model_validate(data)

    def goal_relationships(self, goal_gid: str) -> list[GoalRelationship]:
        """What supports a goal (projects, portfolios, tasks, subgoals), with contribution weights."""
        api = self.api(asana.GoalRelationshipsApi)
        rows = self._pages(
            "GET /goal_relationships",
            lambda o, kw: api.get_goal_relationships(goal_gid, o, **kw),
            F.GOAL_RELATIONSHIP,
        )
        return [GoalRelationship.model_validate(r) for r in rows]


def pick_project(candidates: list[Project], wanted: str, workspace_gid: str) -> Project:
    """The project named `wanted` among `candidates` (exact, then case-insensitive; active before
    archived); NotFound with close names from `candidates` only, AmbiguousName for several."""
    exact_then_folded: tuple[Callable[[Project], bool], ...] = (
        lambda p: p.name == wanted,
        lambda p: (p.name or "").casefold() == wanted.casefold(),
    )
    for same in exact_then_folded:
        hits = [p for p in candidates if same(p)]
        active = [p for p in hits if not p.archived]
        chosen = active or hits
        if len(chosen) == 1:
            return chosen[0]
        if len(chosen) > 1:
            gids = ", ".join(p.gid for p in chosen)
            raise AmbiguousName(0, f"{len(chosen)} projects are named {wanted!r}: {gids}; use a gid")
    # Close names, active projects before archived ones (tools/names.py: also the chat's).
    names = [p.name for p in sorted(candidates, key=lambda p: bool(p.archived)) if p.name]
    hint = did_you_mean(wanted, names)
    raise NotFound(
        404,
        f"no project named {wanted!r} in workspace {workspace_gid}{hint}",
        "GET",
        f"/workspaces/{workspace_gid}/projects",
    )
