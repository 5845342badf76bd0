"""Portfolio custom fields: a portfolio's field settings give each of its projects a value."""

from __future__ import annotations

import json

import asana
import pytest
from asana.rest import ApiException

pytestmark = pytest.mark.integration
CF_OPTS = (
    "custom_fields.name,custom_fields.display_value,custom_fields.number_value,custom_fields.enum_value.name"
)


def _error(exc: pytest.ExceptionInfo[ApiException]) -> str:
    return str(json.loads(exc.value.body)["errors"][0]["message"])


def _portfolio_with_fields(sdk: asana.ApiClient, mini) -> str:  # type: ignore[no-untyped-def]
    portfolios = asana.PortfoliosApi(sdk)
    gid = portfolios.create_portfolio({"data": {"workspace": mini.ws, "name": "Teams"}}, {})["gid"]
    portfolios.add_item_for_portfolio({"data": {"item": mini.project}}, gid)
    for key in ("score", "priority"):
        portfolios.add_custom_field_setting_for_portfolio({"data": {"custom_field": mini.fields[key]}}, gid)
    return gid


def test_portfolio_field_round_trips_on_the_project(sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    portfolio = _portfolio_with_fields(sdk, mini)
    settings = asana.CustomFieldSettingsApi(sdk).get_custom_field_settings_for_portfolio(
        portfolio, {"opt_fields": "custom_field.name,parent.name"}
    )
    assert [s["custom_field"]["name"] for s in settings] == ["AI Priority Score", "Priority"]
    projects = asana.ProjectsApi(sdk)
    before = projects.get_project(mini.project, {"opt_fields": CF_OPTS})
    assert {c["name"]: c["display_value"] for c in before["custom_fields"]} == {
        "AI Priority Score": None,
        "Priority": None,
    }
    f = mini.fields
    body = {"data": {"custom_fields": {f["score"]: 72.34, f["priority"]: mini.options["High"]}}}
    projects.update_project(body, mini.project, {})
    after = projects.get_project(mini.project, {"opt_fields": CF_OPTS})
    values = {c["name"]: c for c in after["custom_fields"]}
    assert values["AI Priority Score"]["number_value"] == 72.3  # the field's precision is 1
    assert values["AI Priority Score"]["display_value"] == "72.3"
    assert (
        values["Priority"]["enum_value"]["name"] == "High" and values["Priority"]["display_value"] == "High"
    )
    # Project values are the project's own: its tasks do not see them.
    assert mini.store.projects[mini.project].custom_fields[f["score"]] == 72.3
    # The change is announced like any other project change.
    changes = [e.change for e in mini.store.events if e.resource.get("gid") == mini.project]
    assert any(c and c["field"] == "custom_fields" for c in changes)
    # Cleared with null.
    projects.update_project({"data": {"custom_fields": {f["priority"]: None}}}, mini.project, {})
    cleared = projects.get_project(mini.project, {"opt_fields": CF_OPTS})
    assert next(c for c in cleared["custom_fields"] if c["name"] == "Priority")["display_value"] is None


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("score", "high", "Number custom field value must be a number"),
        ("priority", "High", "is not an option"),  # an option *name*: Asana wants the option gid
        ("sprint", "Sprint 24", "is not on given object"),  # a task field, not the portfolio's
    ],
)
def test_project_values_are_validated_against_the_field(
    sdk: asana.ApiClient,
    mini,  # type: ignore[no-untyped-def]
    key: str,
    value: object,
    message: str,
) -> None:
    _portfolio_with_fields(sdk, mini)
    projects = asana.ProjectsApi(sdk)
    with pytest.raises(ApiException) as exc:
        projects.update_project(
            {"data": {"name": "Renamed", "custom_fields": {mini.fields[key]: value}}}, mini.project, {}
        )
    assert exc.value.status == 400 and message in _error(exc)
    project = mini.store.projects[mini.project]
    assert project.custom_fields == {} and project.name == "Product Backlog"  # nothing applied


def test_project_outside_any_portfolio_has_no_fields(sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    _portfolio_with_fields(sdk, mini)
    projects = asana.ProjectsApi(sdk)
    other = projects.get_project(mini.project2, {"opt_fields": CF_OPTS})
    assert other["custom_fields"] == []
    with pytest.raises(ApiException) as exc:
        projects.update_project({"data": {"custom_fields": {mini.fields["score"]: 1}}}, mini.project2, {})
    assert exc.value.status == 400


def test_portfolio_field_settings_add_remove(sdk: asana.ApiClient, mini) -> None:  # type: ignore[no-untyped-def]
    portfolio = _portfolio_with_fields(sdk, mini)
    portfolios = asana.PortfoliosApi(sdk)
    with pytest.raises(ApiException) as exc:  # twice is refused
        portfolios.add_custom_field_setting_for_portfolio(
            {"data": {"custom_field": mini.fields["score"]}}, portfolio
        )
    assert exc.value.status == 400 and "already on the portfolio" in _error(exc)
    portfolios.remove_custom_field_setting_for_portfolio(
        {"data": {"custom_field": mini.fields["score"]}}, portfolio
    )
    settings = asana.CustomFieldSettingsApi(sdk).get_custom_field_settings_for_portfolio(
        portfolio, {"opt_fields": "custom_field.name"}
    )
    assert [s["custom_field"]["name"] for s in settings] == ["Priority"]


def test_typed_client_sets_and_reads_project_values(server, mini) -> None:  # type: ignore[no-untyped-def]
    from tools.asana import AsanaClient

    with AsanaClient(server.base_url, mini.token) as client:
        portfolio = client.create_portfolio(mini.ws, "Teams")
        client.add_portfolio_item(portfolio.gid, mini.project)
        client.add_custom_field_to_portfolio(portfolio.gid, mini.fields["score"])
        fmap = client.portfolio_field_map(portfolio.gid)
        assert fmap.names == ["AI Priority Score"] and fmap.project_label.startswith("'Teams'")
        written = client.update_project_custom_fields(
            mini.project, fmap.to_custom_fields({"AI Priority Score": 64.5})
        )
        assert written.field("AI Priority Score") == 64.5
        assert client.project_with_fields(mini.project).field("ai priority score") == 64.5
        items = client.portfolio_items_with_fields(portfolio.gid)
        assert [(p.gid, p.field("AI Priority Score")) for p in items] == [(mini.project, 64.5)]
        # The write goes through the client's one call path (counted as a write, retried like others).
        assert client.calls["PUT /projects/{gid}"] == 1
