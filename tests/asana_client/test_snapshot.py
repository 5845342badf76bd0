"""One view of each task per event handling (tools/asana/snapshot.py, issue 23): repeated reads are
answered once, a write or age makes the next read go to Asana, another client never shares."""

from __future__ import annotations

from tests.asana_client.conftest import TOKEN
from tests.asana_client.fake_asana import FakeAsana, Reply, Request, ok
from tools.asana import AsanaClient
from tools.asana.snapshot import ReadSnapshot, forget_lasting, read_snapshot


def _serve(fake: FakeAsana) -> dict[str, str]:
    state = {"name": "first"}

    def handler(req: Request) -> Reply:
        if req.method == "PUT":
            state["name"] = req.json["data"]["name"]
            return ok({"gid": "7", "name": state["name"]})
        if req.path.startswith("/projects/"):
            return ok({"gid": req.path.rsplit("/", 1)[1], "name": f"project {state['name']}"})
        return ok({"gid": "7", "name": state["name"]})

    fake.handler = handler
    return state


def _gets(fake: FakeAsana, path: str) -> int:
    return sum(1 for r in fake.requests if r.method == "GET" and r.path == path)


def test_outside_a_snapshot_every_read_goes_to_asana(fake: FakeAsana, client: AsanaClient) -> None:
    _serve(fake)
    client.task("7")
    client.task("7")
    assert _gets(fake, "/tasks/7") == 2


def test_a_handling_reads_a_task_once_and_again_after_its_own_write(
    fake: FakeAsana, client: AsanaClient
) -> None:
    _serve(fake)
    with read_snapshot():
        assert client.task("7").name == "first"
        assert client.task("7").name == "first"  # the policy's scope check, the stale check
        assert _gets(fake, "/tasks/7") == 1
        client.update_task("7", {"name": "second"})
        assert client.task("7").name == "second"  # after a write: read again
        assert _gets(fake, "/tasks/7") == 2
    assert client.task("7").name == "second"
    assert _gets(fake, "/tasks/7") == 3


def test_an_old_entry_is_read_again(fake: FakeAsana, client: AsanaClient) -> None:
    """A slow step (a model call) between the proposal and the write must not hide a person's edit
    for longer than the snapshot's age bound."""
    state = _serve(fake)
    with read_snapshot(max_age_s=0.0):
        client.task("7")
        state["name"] = "edited by a person"
        assert client.task("7").name == "edited by a person"


def test_another_client_never_sees_what_one_client_read(fake: FakeAsana, client: AsanaClient) -> None:
    """Another token may see other things (or nothing): its reads are its own."""
    _serve(fake)
    with AsanaClient(fake.base_url, TOKEN + "-other") as other, read_snapshot(lasting=True):
        client.task("7")
        other.task("7")
        client.project("9")
        other.project("9")
    assert _gets(fake, "/tasks/7") == 2
    assert _gets(fake, "/projects/9") == 2


def test_project_records_last_across_handlings_until_a_project_event(
    fake: FakeAsana, client: AsanaClient
) -> None:
    state = _serve(fake)
    forget_lasting(client.base_url)
    for _ in range(3):
        with read_snapshot(lasting=True):
            assert client.project("9").name == "project first"
    assert _gets(fake, "/projects/9") == 1
    with read_snapshot():  # a handling that does not keep lasting reads (the default)
        client.project("9")
    assert _gets(fake, "/projects/9") == 2
    state["name"] = "renamed"
    forget_lasting(client.base_url)  # the worker does this for an event about a project
    with read_snapshot(lasting=True):
        assert client.project("9").name == "project renamed"
    forget_lasting(client.base_url)


def test_nested_snapshots_share_the_outer_one() -> None:
    made: list[int] = []
    with read_snapshot() as outer, read_snapshot() as inner:
        assert inner is outer
        owner = object()
        assert outer.read(owner, "k", lambda: made.append(1) or 1) == 1
        assert inner.read(owner, "k", lambda: made.append(2) or 2) == 1
    assert made == [1]
    assert isinstance(outer, ReadSnapshot) and outer.hits == 1
