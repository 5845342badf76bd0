"""Write operations. Bodies are wrapped in `{"data": ...}` here (the SDK sends them verbatim)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import asana

from tools.asana import fields as F
from tools.asana.core import ClientCore
from tools.asana.fields import TaskView
from tools.asana.models import (
    Attachment,
    CustomField,
    Goal,
    GoalRelationship,
    Portfolio,
    Project,
    Section,
    StatusUpdate,
    Story,
    Tag,
    Task,
    Workspace,
)

# asana_oas.yaml PortfolioResponse.privacy_setting enum.
PortfolioPrivacy = Literal["public_to_domain", "members_only"]
STATUS_TYPES = frozenset({"on_track", "at_risk", "off_track", "on_hold", "complete", "dropped"})


def _iso(value: str | dt.date | dt.datetime | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def _drop_none(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def check_task_dates(data: Mapping[str, Any]) -> None:
    """Refuse up front the date combinations Asana answers 400 to (asana_oas.yaml TaskBase):
    `due_on` with `due_at`, and `start_on` without `due_on`/`due_at` in the same request."""
    if data.get("due_on") is not None and data.get("due_at") is not None:
        raise ValueError("give either due_on or due_at, not both: Asana refuses the pair")
    if "start_on" in data and "due_on" not in data and "due_at" not in data:
        raise ValueError("start_on needs due_on or due_at in the same request: Asana refuses it alone")


class WriteOps(ClientCore):
    # --- projects and sections ----------------------------------------------------------------

    def create_project(
        self,
        workspace_gid: str,
        name: str,
        *,
        team_gid: str | None = None,
        notes: str = "",
        start_on: str | dt.date | None = None,
        due_on: str | dt.date | None = None,
        owner_gid: str | None = None,
    ) -> Project:
        """A new project. With a team: `POST /teams/{team_gid}/projects` (asana_oas.yaml marks the
        `team` field of `POST /projects` deprecated). Without one: `POST /projects`, which Asana
        refuses in an organization, so that case raises ValueError before anything is sent."""
        api = self.api(asana.ProjectsApi)
        fields = _drop_none(
            {
                "name": name,
                "notes": notes,
                "start_on": _iso(start_on),
                "due_on": _iso(due_on),
                "owner": owner_gid,
            }
        )
        opts = {"opt_fields": F.PROJECT}
        if team_gid is not None:
            data = self._one(
                "POST /teams/{gid}/projects",
                lambda kw: api.create_project_for_team({"data": fields}, team_gid, opts, **kw),
                gid=team_gid,
            )
        else:
            self._refuse_organization_without_team(workspace_gid, name)
            body = {"data": {"workspace": workspace_gid, **fields}}
            data = self._one("POST /projects", lambda kw: api.create_project(body, opts, **kw))
        return Project.model_validate(data)

    def _refuse_organization_without_team(self, workspace_gid: str, name: str) -> None:
        """asana_oas.yaml paths./projects.post: "If the workspace for your project is an
        organization, you must also supply a `team`"."""
        api = self.api(asana.WorkspacesApi)
        row = self._one(
            "GET /workspaces/{gid}",
            lambda kw: api.get_workspace(workspace_gid, {"opt_fields": "is_organization"}, **kw),
            gid=workspace_gid,
        )
        if Workspace.model_validate(row).is_organization:
            raise ValueError(
                f"cannot create project {name!r}: workspace {workspace_gid} is an organization and "
                "Asana needs a team for every new project there (pass team_gid)"
            )

    def delete_project(self, project_gid: str) -> None:
        api = self.api(asana.ProjectsApi)
        self._one("DELETE /projects/{gid}", lambda kw: api.delete_project(project_gid, **kw), gid=project_gid)

    def update_project_custom_fields(self, project_gid: str, custom_fields: Mapping[str, Any]) -> Project:
        """Set a project's own custom field values (`{field gid: encoded value}`, None clears).

        The fields are a portfolio's (build the payload with
        `client.portfolio_field_map(portfolio).to_custom_fields({"Health": 72.5})`).
        """
        api = self.api(asana.ProjectsApi)
        body = {"data": {"custom_fields": dict(custom_fields)}}
        data = self._one(
            "PUT /projects/{gid}",
            lambda kw: api.update_project(body, project_gid, {"opt_fields": F.PROJECT_CUSTOM_FIELDS}, **kw),
            gid=project_gid,
        )
        return Project.model_validate(data)

    def add_custom_field_to_portfolio(
        self, portfolio_gid: str, custom_field_gid: str, *, important: bool = True
    ) -> None:
        api = self.api(asana.PortfoliosApi)
        body = {"data": {"custom_field": custom_field_gid, "is_important": important}}
        self._one(
            "POST /portfolios/{gid}/addCustomFieldSetting",
            lambda kw: api.add_custom_field_setting_for_portfolio(body, portfolio_gid, **kw),
            gid=portfolio_gid,
        )
        self.forget_field_map(portfolio_gid)

    def create_section(self, project_gid: str, name: str) -> Section:
        api = self.api(asana.SectionsApi)
        # This SDK method reads its body from opts["body"] (and also sends opts as the query).
        opts = {"body": {"data": {"name": name}}, "opt_fields": F.SECTION}
        data = self._one(
            "POST /projects/{gid}/sections",
            lambda kw: api.create_section_for_project(project_gid, dict(opts), **kw),
            gid=project_gid,
        )
        return Section.model_validate(data)

    def update_section(self, section_gid: str, name: str) -> Section:
        """Rename a section (the only field `PUT /sections/{gid}` changes)."""
        api = self.api(asana.SectionsApi)
        opts = {"body": {"data": {"name": name}}, "opt_fields": F.SECTION}
        data = self._one(
            "PUT /sections/{gid}",
            lambda kw: api.update_section(section_gid, dict(opts), **kw),
            gid=section_gid,
        )
        return Section.model_validate(data)

    def add_custom_field_to_project(
        self, project_gid: str, custom_field_gid: str, *, important: bool = True
    ) -> None:
        api = self.api(asana.ProjectsApi)
        body = {"data": {"custom_field": custom_field_gid, "is_important": important}}
        self._one(
            "POST /projects/{gid}/addCustomFieldSetting",
            lambda kw: api.add_custom_field_setting_for_project(body, project_gid, {}, **kw),
            gid=project_gid,
        )
        self.forget_field_map(project_gid)

    def create_custom_field(
        self,
        workspace_gid: str,
        name: str,
        resource_subtype: str,
        *,
        enum_options: Iterable[str] = (),
        precision: int | None = None,
    ) -> CustomField:
        api = self.api(asana.CustomFieldsApi)
        data: dict[str, Any] = {
            "workspace": workspace_gid,
            "name": name,
            "resource_subtype": resource_subtype,
        }
        options = list(enum_options)
        if options:
            data["enum_options"] = [{"name": o} for o in options]
        if precision is not None:
            data["precision"] = precision
        body = {"data": data}
        row = self._one(
            "POST /custom_fields",
            lambda kw: api.create_custom_field(body, {"opt_fields": F.CUSTOM_FIELD}, **kw),
        )
        return CustomField.model_validate(row)

    def delete_custom_field(self, custom_field_gid: str) -> None:
        api = self.api(asana.CustomFieldsApi)
        self._one(
            "DELETE /custom_fields/{gid}",
            lambda kw: api.delete_custom_field(custom_field_gid, **kw),
            gid=custom_field_gid,
        )

    # --- task membership ----------------------------------------------------------------------

    def add_task_to_project(self, task_gid: str, project_gid: str, section_gid: str | None = None) -> None:
        api = self.api(asana.TasksApi)
        body = {"data": _drop_none({"project": project_gid, "section": section_gid})}
        self._one(
            "POST /tasks/{gid}/addProject",
            lambda kw: api.add_project_for_task(body, task_gid, **kw),
            gid=task_gid,
        )

    def remove_task_from_project(self, task_gid: str, project_gid: str) -> None:
        api = self.api(asana.TasksApi)
        body = {"data": {"project": project_gid}}
        self._one(
            "POST /tasks/{gid}/removeProject",
            lambda kw: api.remove_project_for_task(body, task_gid, **kw),
            gid=task_gid,
        )

    def add_task_to_section(self, section_gid: str, task_gid: str) -> None:
        """Move a task into a section (and out of the project's other sections)."""
        api = self.api(asana.SectionsApi)
        opts = {"body": {"data": {"task": task_gid}}}
        self._one(
            "POST /sections/{gid}/addTask",
            lambda kw: api.add_task_for_section(section_gid, dict(opts), **kw),
            gid=section_gid,
        )

    # --- tasks --------------------------------------------------------------------------------

    def create_task(
        self,
        *,
        name: str,
        workspace_gid: str | None = None,
        projects: Iterable[str] | None = None,
        notes: str = "",
        assignee: str | None = None,
        due_on: str | dt.date | None = None,
        due_at: str | dt.datetime | None = None,
        resource_subtype: str | None = None,
        custom_fields: Mapping[str, Any] | None = None,
        parent_gid: str | None = None,
        start_on: str | dt.date | None = None,
        tags: Iterable[str] | None = None,
        view: TaskView = TaskView.PLANNING,
    ) -> Task:
        """Create a task (a subtask when `parent_gid` is given).

        `custom_fields` is the write payload keyed by field gid: build it with
        `client.field_map(project).to_custom_fields({"Story Points": 5, ...})`.
        """
        api = self.api(asana.TasksApi)
        project_list = list(projects) if projects is not None else None
        data = _drop_none(
            {
                "name": name,
                "workspace": workspace_gid if not (project_list or parent_gid) else None,
                "projects": project_list or None,
                "notes": notes,
                "assignee": assignee,
                "due_on": _iso(due_on),
                "due_at": _iso(due_at),
                "start_on": _iso(start_on),
                "resource_subtype": resource_subtype,
                "custom_fields": dict(custom_fields) if custom_fields else None,
                "tags": list(tags) if tags else None,
            }
        )
        check_task_dates(data)
        body = {"data": data}
        opts = {"opt_fields": view.opt_fields}
        if parent_gid:
            row = self._one(
                "POST /tasks/{gid}/subtasks",
                lambda kw: api.create_subtask_for_task(body, parent_gid, dict(opts), **kw),
                gid=parent_gid,
            )
        else:
            row = self._one("POST /tasks", lambda kw: api.create_task(body, dict(opts), **kw))
        return Task.model_validate(row)

    def update_task(
        self, task_gid: str, fields: Mapping[str, Any], view: TaskView = TaskView.PLANNING
    ) -> Task:
        """Partial update: only the keys in `fields` change (custom_fields keyed by gid)."""
        check_task_dates(fields)
        api = self.api(asana.TasksApi)
        body = {"data": {k: _iso(v) if isinstance(v, dt.date) else v for k, v in fields.items()}}
        row = self._one(
            "PUT /tasks/{gid}",
            lambda kw: api.update_task(body, task_gid, {"opt_fields": view.opt_fields}, **kw),
            gid=task_gid,
        )
        return Task.model_validate(row)

    def delete_task(self, task_gid: str) -> None:
        api = self.api(asana.TasksApi)
        self._one("DELETE /tasks/{gid}", lambda kw: api.delete_task(task_gid, **kw), gid=task_gid)

    def set_parent(self, task_gid: str, parent_gid: str | None) -> Task:
        api = self.api(asana.TasksApi)
        body = {"data": {"parent": parent_gid}}
        row = self._one(
            "POST /tasks/{gid}/setParent",
            lambda kw: api.set_parent_for_task(
                body, task_gid, {"opt_fields": TaskView.PLANNING.opt_fields}, **kw
            ),
            gid=task_gid,
        )
        return Task.model_validate(row)

    # --- dependencies -------------------------------------------------------------------------

    def add_dependencies(self, task_gid: str, gids: Iterable[str]) -> None:
        """`task_gid` becomes blocked by each of `gids`."""
        api = self.api(asana.TasksApi)
        body = {"data": {"dependencies": list(gids)}}
        self._one(
            "POST /tasks/{gid}/addDependencies",
            lambda kw: api.add_dependencies_for_task(body, task_gid, **kw),
            gid=task_gid,
        )

    def remove_dependencies(self, task_gid: str, gids: Iterable[str]) -> None:
        api = self.api(asana.TasksApi)
        body = {"data": {"dependencies": list(gids)}}
        self._one(
            "POST /tasks/{gid}/removeDependencies",
            lambda kw: api.remove_dependencies_for_task(body, task_gid, **kw),
            gid=task_gid,
        )

    def add_dependents(self, task_gid: str, gids: Iterable[str]) -> None:
        """Each of `gids` becomes blocked by `task_gid`."""
        api = self.api(asana.TasksApi)
        body = {"data": {"dependents": list(gids)}}
        self._one(
            "POST /tasks/{gid}/addDependents",
            lambda kw: api.add_dependents_for_task(body, task_gid, **kw),
            gid=task_gid,
        )

    def remove_dependents(self, task_gid: str, gids: Iterable[str]) -> None:
        api = self.api(asana.TasksApi)
        body = {"data": {"dependents": list(gids)}}
        self._one(
            "POST /tasks/{gid}/removeDependents",
            lambda kw: api.remove_dependents_for_task(body, task_gid, **kw),
            gid=task_gid,
        )

    # --- tags ---------------------------------------------------------------------------------

    def create_tag(self, workspace_gid: str, name: str) -> Tag:
        api = self.api(asana.TagsApi)
        body = {"data": {"name": name}}
        row = self._one(
            "POST /workspaces/{gid}/tags",
            lambda kw: api.create_tag_for_workspace(body, workspace_gid, {"opt_fields": F.TAG}, **kw),
            gid=workspace_gid,
        )
        return Tag.model_validate(row)

    def add_tag(self, task_gid: str, tag_gid: str) -> None:
        api = self.api(asana.TasksApi)
        body = {"data": {"tag": tag_gid}}
        self._one(
            "POST /tasks/{gid}/addTag", lambda kw: api.add_tag_for_task(body, task_gid, **kw), gid=task_gid
        )

    def remove_tag(self, task_gid: str, tag_gid: str) -> None:
        api = self.api(asana.TasksApi)
        body = {"data": {"tag": tag_gid}}
        self._one(
            "POST /tasks/{gid}/removeTag",
            lambda kw: api.remove_tag_for_task(body, task_gid, **kw),
            gid=task_gid,
        )

    # --- stories, status updates, attachments, portfolios -------------------------------------

    def add_comment(self, task_gid: str, text: str | None = None, *, html_text: str | None = None) -> Story:
        """Comment on a task: plain `text`, or rich `html_text` (`<body>…</body>`, build it with
        `tools.asana.richtext.markdown_to_html`); Asana takes exactly one of the two."""
        if (text is None) == (html_text is None):
            raise ValueError("give exactly one of text and html_text")
        api = self.api(asana.StoriesApi)
        body = {"data": {"text": text} if html_text is None else {"html_text": html_text}}
        opts = {"opt_fields": F.STORY if html_text is None else f"{F.STORY},html_text"}
        row = self._one(
            "POST /tasks/{gid}/stories",
            lambda kw: api.create_story_for_task(body, task_gid, dict(opts), **kw),
            gid=task_gid,
        )
        return Story.model_validate(row)

    def create_status_update(
        self, parent_gid: str, *, title: str, text: str, status_type: str, html_text: str | None = None
    ) -> StatusUpdate:
        """Post a status update. `text` is required by Asana; with `html_text` (rich text) as well,
        pass its plain rendering (`tools.asana.richtext.html_to_text`) as `text`."""
        if status_type not in STATUS_TYPES:
            raise ValueError(f"status_type must be one of {sorted(STATUS_TYPES)}, got {status_type!r}")
        api = self.api(asana.StatusUpdatesApi)
        data = {"parent": parent_gid, "title": title, "text": text, "status_type": status_type}
        if html_text is not None:
            data["html_text"] = html_text
        body = {"data": data}
        opts = {"opt_fields": F.STATUS_UPDATE if html_text is None else f"{F.STATUS_UPDATE},html_text"}
        row = self._one(
            "POST /status_updates",
            lambda kw: api.create_status_for_object(body, dict(opts), **kw),
        )
        return StatusUpdate.model_validate(row)

    def upload_attachment(self, parent_gid: str, filename: str, data: bytes, content_type: str) -> Attachment:
        """Upload bytes as a multipart file attachment.

        The generated `create_attachment_for_object` only accepts a file *path* and guesses the
        content type, so the same multipart request is issued through the SDK's `call_api`.
        """
        client = self._api_client
        form = [("parent", parent_gid), ("file", (filename, data, content_type))]
        query = {"opt_fields": F.ATTACHMENT}

        def send(kw: dict[str, Any]) -> Any:
            return client.call_api(
                "/attachments",
                "POST",
                {},
                dict(query),
                {"Accept": "application/json; charset=UTF-8", "Content-Type": "multipart/form-data"},
                body=None,
                post_params=list(form),
                files={},
                response_type=object,
                auth_settings=["personalAccessToken"],
                _return_http_data_only=True,
                _preload_content=True,
                _request_timeout=kw["_request_timeout"],
                collection_formats={},
            )

        row = self._one("POST /attachments", send)
        return Attachment.model_validate(row)

    def delete_attachment(self, attachment_gid: str) -> None:
        api = self.api(asana.AttachmentsApi)
        self._one(
            "DELETE /attachments/{gid}",
            lambda kw: api.delete_attachment(attachment_gid, **kw),
            gid=attachment_gid,
        )

    def create_portfolio(
        self, workspace_gid: str, name: str, *, privacy_setting: PortfolioPrivacy | None = None
    ) -> Portfolio:
        """A new portfolio; without `privacy_setting` Asana's default applies. The old `public`
        flag is not sent: asana_oas.yaml PortfolioRequest.public is deprecated in favour of
        `privacy_setting`."""
        api = self.api(asana.PortfoliosApi)
        fields = {"workspace": workspace_gid, "name": name, "privacy_setting": privacy_setting}
        body = {"data": _drop_none(fields)}
        row = self._one(
            "POST /portfolios", lambda kw: api.create_portfolio(body, {"opt_fields": F.PORTFOLIO}, **kw)
        )
        return Portfolio.model_validate(row)

    def delete_portfolio(self, portfolio_gid: str) -> None:
        api = self.api(asana.PortfoliosApi)
        self._one(
            "DELETE /portfolios/{gid}",
            lambda kw: api.delete_portfolio(portfolio_gid, **kw),
            gid=portfolio_gid,
        )

    def add_portfolio_item(self, portfolio_gid: str, project_gid: str) -> None:
        api = self.api(asana.PortfoliosApi)
        body = {"data": {"item": project_gid}}
        self._one(
            "POST /portfolios/{gid}/addItem",
            lambda kw: api.add_item_for_portfolio(body, portfolio_gid, **kw),
            gid=portfolio_gid,
        )

    def remove_portfolio_item(self, portfolio_gid: str, project_gid: str) -> None:
        api = self.api(asana.PortfoliosApi)
        body = {"data": {"item": project_gid}}
        self._one(
            "POST /portfolios/{gid}/removeItem",
            lambda kw: api.remove_item_for_portfolio(body, portfolio_gid, **kw),
            gid=portfolio_gid,
        )

    # --- goals --------------------------------------------------------------------------------

    def add_supporting_relationship(
        self, goal_gid: str, resource_gid: str, *, contribution_weight: float | None = None
    ) -> GoalRelationship:
        """Make a project (portfolio, task or goal) support a goal. Asana's default weight is 0."""
        api = self.api(asana.GoalRelationshipsApi)
        data = {"supporting_resource": resource_gid, "contribution_weight": contribution_weight}
        body = {"data": _drop_none(data)}
        opts = {"opt_fields": F.GOAL_RELATIONSHIP}
        row = self._one(
            "POST /goals/{gid}/addSupportingRelationship",
            lambda kw: api.add_supporting_relationship(body, goal_gid, dict(opts), **kw),
            gid=goal_gid,
        )
        return GoalRelationship.model_validate(row)

    def set_goal_current_value(self, goal_gid: str, value: float) -> Goal:
        """The current value of a goal's manual metric (`setMetricCurrentValue`)."""
        api = self.api(asana.GoalsApi)
        body = {"data": {"current_number_value": value}}
        row = self._one(
            "POST /goals/{gid}/setMetricCurrentValue",
            lambda kw: api.update_goal_metric(body, goal_gid, {"opt_fields": F.GOAL}, **kw),
            gid=goal_gid,
        )
        return Goal.model_validate(row)
