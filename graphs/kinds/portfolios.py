"""Kinds that create a portfolio and put a project into one (Asana portfolios hold projects and
portfolios, never tasks: `POST /portfolios`, `POST /portfolios/{gid}/addItem` with `item`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from agents.proposal import Action, ActionKind
from graphs.actions import GidOrRef, Params, gid_or_ref
from graphs.asana_port import AsanaReads
from graphs.kinds.spec import ActionSpec, Refs, StaleOutcome, WriteContext
from graphs.ports import LedgerStatus


def find_portfolio(asana: AsanaReads, workspace_gid: str, name: str) -> str | None:
    """The service account's portfolio of exactly that name in the workspace (owned or a member)."""
    return next((p.gid for p in asana.portfolios(workspace_gid) if p.name == name), None)


class CreatePortfolioParams(Params):
    name: str = Field(min_length=1, max_length=255)
    workspace_gid: str | None = None
    # Without it Asana's default applies; `public_to_domain` lets everyone in the organisation
    # (program managers included) find it without being added as members.
    privacy_setting: Literal["public_to_domain", "members_only"] | None = None


class CreatePortfolio(ActionSpec[CreatePortfolioParams]):
    """A portfolio, created at most once by name.

    A portfolio has no notes to carry the ledger marker, so its name is its identity: the write
    uses a portfolio of that name when one is already there (an earlier attempt whose answer was
    lost, or another approved proposal that created it meanwhile), and the probe looks it up the
    same way. Two portfolios of one name would split what people see, so reusing is the intent."""

    kind = ActionKind.CREATE_PORTFOLIO
    params_model = CreatePortfolioParams
    target = "none"
    creates = "portfolio"

    def check_params(self, params: CreatePortfolioParams, refs: Refs, workspace_gid: str) -> None:
        refs.workspace(params.workspace_gid or workspace_gid)

    def write(self, w: WriteContext, target: str | None, params: CreatePortfolioParams) -> str | None:
        workspace = params.workspace_gid or w.workspace_gid
        existing = find_portfolio(w.reads, workspace, params.name)
        if existing is not None:
            return existing
        return w.asana.create_portfolio(workspace, params.name, privacy_setting=params.privacy_setting).gid

    def probe(
        self,
        asana: AsanaReads,
        target: str | None,
        params: CreatePortfolioParams,
        mark: str,
        workspace_gid: str,
    ) -> str | None:
        return find_portfolio(asana, params.workspace_gid or workspace_gid, params.name)


class AddToPortfolioParams(Params):
    # An existing in-scope portfolio, or a `ref:` to one this proposal creates.
    portfolio: GidOrRef

    _check = field_validator("portfolio")(lambda v: gid_or_ref(v))


class AddToPortfolio(ActionSpec[AddToPortfolioParams]):
    """Put the target project (existing, or a `ref:` this proposal creates) into a portfolio.

    Idempotent by reading first: a project already among the portfolio's items is done, nothing
    written (so a retry after a lost answer, found by the stale check, writes nothing either)."""

    kind = ActionKind.ADD_TO_PORTFOLIO
    params_model = AddToPortfolioParams
    target = "project"

    def check_params(self, params: AddToPortfolioParams, refs: Refs, workspace_gid: str) -> None:
        refs.portfolio(params.portfolio)

    def stale(
        self, asana: AsanaReads, action: Action, target: str | None, params: AddToPortfolioParams
    ) -> StaleOutcome | None:
        assert target
        if any(p.gid == target for p in asana.portfolio_items(params.portfolio)):
            return StaleOutcome(LedgerStatus.DONE, "already in the portfolio", [])
        return None

    def write(self, w: WriteContext, target: str | None, params: AddToPortfolioParams) -> str | None:
        assert target
        w.asana.add_portfolio_item(params.portfolio, target)
        return None
