"""Issue 18: 402 Payment Required, expired page offsets, Asana-Change deprecation headers."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from tests.asana_client.conftest import FakeTime
from tests.asana_client.fake_asana import FakeAsana, Reply, Request, error, ok
from tools.asana import AsanaClient
from tools.asana.deprecations import forget_changes, parse_change
from tools.asana.errors import BadRequest, PaymentRequired

EXPIRED = "offset: Your pagination token is invalid or has expired."


def test_402_is_payment_required_naming_the_feature_and_never_retried(
    fake: FakeAsana, client: AsanaClient, fake_time: FakeTime
) -> None:
    fake.script(error(402, "above your current premium level"))
    with pytest.raises(PaymentRequired) as caught:
        client.portfolio("77")
    err = caught.value
    assert err.status == 402 and err.feature == "portfolios"
    assert err.message == "needs a paid Asana plan: portfolios"
    assert err.asana_message == "above your current premium level"
    assert len(fake.requests) == 1 and fake_time.sleeps == []


def _pages(expire_at: set[int]) -> tuple[list[int], Callable[[Request], Reply]]:
    """Three pages of workspaces; the request numbers in `expire_at` get the expired-offset 400."""
    seen: list[int] = []

    def handler(req: Request) -> Reply:
        seen.append(len(seen))
        if len(seen) - 1 in expire_at and "offset" in req.query:
            return error(400, EXPIRED)
        page = int(req.query.get("offset", "0"))
        data = [{"gid": str(page * 2 + i), "name": f"w{page * 2 + i}"} for i in range(2)]
        nxt = {"offset": str(page + 1), "path": "/workspaces", "uri": "x"} if page < 2 else None
        return ok(data, next_page=nxt)

    return seen, handler


def test_expired_offset_restarts_from_page_one_without_duplicates(
    fake: FakeAsana, client: AsanaClient, caplog: pytest.LogCaptureFixture
) -> None:
    seen, handler = _pages({2})  # the third request (page 3) finds its token expired
    fake.handler = handler
    with caplog.at_level(logging.WARNING, "tools.asana"):
        workspaces = client.workspaces()
    assert [w.gid for w in workspaces] == [str(i) for i in range(6)]
    assert len(seen) == 6  # p1 p2 (p3: 400) p1 p2 p3
    assert "restarting the walk from page one" in caplog.text


def test_expired_offset_gives_up_after_two_restarts(fake: FakeAsana, client: AsanaClient) -> None:
    fake.handler = _pages(set(range(100)))[1]
    with pytest.raises(BadRequest, match="expired"):
        client.workspaces()
    assert len(fake.requests) == 6  # 3 walks of (page 1, page 2 refused)


def test_other_400s_are_not_restarted(fake: FakeAsana, client: AsanaClient) -> None:
    fake.script(error(400, "workspace: Missing input"))
    with pytest.raises(BadRequest):
        client.workspaces()
    assert len(fake.requests) == 1


def test_asana_change_is_logged_once_per_change(
    fake: FakeAsana, client: AsanaClient, caplog: pytest.LogCaptureFixture
) -> None:
    forget_changes()
    change = "name=new_goal_memberships;info=https://forum.asana.com/t/123;affected=true"
    fake.handler = lambda req: Reply(200, {"data": {"gid": "1", "name": "me"}}, {"Asana-Change": change})
    with caplog.at_level(logging.WARNING, "tools.asana"):
        for _ in range(3):
            client.forget_me()  # the client keeps who its token is: ask each time
            client.me()
        fake.handler = lambda req: Reply(404, {"errors": [{"message": "no"}]}, {"Asana-Change": change})
        client.forget_me()
        with pytest.raises(Exception):  # noqa: B017, PT011 - any error; the header counts once
            client.me()
    warnings = [r for r in caplog.records if "new_goal_memberships" in r.getMessage()]
    assert len(warnings) == 1
    assert "https://forum.asana.com/t/123" in warnings[0].getMessage()
    assert warnings[0].levelno == logging.WARNING


def test_parse_change() -> None:
    assert parse_change("name=x; info=https://a/b ;affected=true") == {
        "name": "x",
        "info": "https://a/b",
        "affected": "true",
    }
