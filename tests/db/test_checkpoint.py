from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypedDict

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.serde.event_hooks import register_serde_event_listener
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel

import service.checkpoint as checkpoint
from agents.proposal import ActionKind, Proposal
from service.checkpoint import (
    checkpoint_sqlite_path,
    close_pools,
    make_serializer,
    open_checkpointer,
    reset_pool_after_fork,
)
from service.settings import Settings, load_settings


class State(TypedDict, total=False):
    count: int
    proposal: Proposal


class Stranger(BaseModel):
    """Not on the allowlist: must come back as plain data, never be constructed."""

    x: int


def _graph(saver: Any, make_proposal: Callable[..., Proposal]) -> Any:
    def step(state: State) -> State:
        return {"count": state["count"] + 1, "proposal": make_proposal()}

    g = StateGraph(State)
    g.add_node("step", step)
    g.add_edge(START, "step")
    g.add_edge("step", END)
    return g.compile(checkpointer=saver)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Iterator[Settings]:
    yield load_settings(database_url=db_url, data_dir=tmp_path, _env_file=None)
    close_pools()


def test_round_trip_in_a_new_saver(settings: Settings, make_proposal: Callable[..., Proposal]) -> None:
    cfg: RunnableConfig = {"configurable": {"thread_id": uuid.uuid4().hex}}
    with open_checkpointer(settings) as saver:
        out = _graph(saver, make_proposal).invoke({"count": 1}, cfg, durability="sync")
        assert out["count"] == 2
    close_pools()  # the next saver must not share anything with the first (fresh pool / connection)

    events: list[Any] = []
    unregister = register_serde_event_listener(events.append)
    with open_checkpointer(settings) as fresh:
        state = _graph(fresh, make_proposal).get_state(cfg)
        assert state.values["count"] == 2
        restored = state.values["proposal"]
        assert isinstance(restored, Proposal)
        assert restored.actions[0].kind is ActionKind.UPDATE_TASK
        assert fresh.get_tuple(cfg) is not None
    unregister()
    # Our types are allowlisted: nothing was "unregistered but allowed" or blocked on the way back.
    assert events == []


def test_unlisted_types_are_not_rebuilt() -> None:
    serde = make_serializer()
    events: list[Any] = []
    unregister = register_serde_event_listener(events.append)
    restored = serde.loads_typed(serde.dumps_typed({"s": Stranger(x=1), "p": {"ok": True}}))
    unregister()
    assert restored["s"] == {"x": 1} and not isinstance(restored["s"], Stranger)
    assert [e["kind"] for e in events] == ["msgpack_blocked"]
    allowed = make_serializer(extra_types=[Stranger])
    assert isinstance(allowed.loads_typed(allowed.dumps_typed(Stranger(x=2))), Stranger)


def test_state_types_cover_the_proposal_contract() -> None:
    names = {t.__name__ for t in checkpoint.state_types()}
    assert {"Proposal", "Action", "Decision", "ActionKind", "LedgerEntry", "AuditRecord"} <= names


def test_sqlite_checkpoint_file_sits_next_to_app_db(tmp_path: Path) -> None:
    s = load_settings(database_url=f"sqlite:///{tmp_path / 'app.db'}", _env_file=None)
    assert checkpoint_sqlite_path(s) == tmp_path / "app.checkpoints.db"
    with open_checkpointer(s):
        assert (tmp_path / "app.checkpoints.db").exists()
    assert checkpoint_sqlite_path(load_settings(database_url="sqlite://", _env_file=None)) is None


def test_postgres_pool_is_per_process_and_reset_after_fork(pg_url: str) -> None:
    s = load_settings(database_url=pg_url, _env_file=None)
    try:
        with open_checkpointer(s):
            first = next(iter(checkpoint._pools.values()))
        with open_checkpointer(s):
            assert next(iter(checkpoint._pools.values())) is first  # reused, set up once
        assert first.max_size == s.checkpoint_pool_max_size
        kwargs = first.kwargs
        assert isinstance(kwargs, dict)
        assert kwargs["prepare_threshold"] is None and kwargs["autocommit"] is True
        reset_pool_after_fork()
        assert checkpoint._pools == {} and not first.closed  # discarded, not closed
        with open_checkpointer(s):
            assert next(iter(checkpoint._pools.values())) is not first
    finally:
        first.close()
        close_pools()


def _child_reads(pg_url: str, thread_id: str, queue: Any) -> None:
    reset_pool_after_fork()  # what Celery's worker_process_init does
    s = load_settings(database_url=pg_url, _env_file=None)
    with open_checkpointer(s) as saver:
        config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
        tup = saver.get_tuple(config)
        queue.put(None if tup is None else tup.checkpoint["channel_values"]["count"])
    close_pools()


def test_forked_child_uses_its_own_pool(pg_url: str, make_proposal: Callable[..., Proposal]) -> None:
    s = load_settings(database_url=pg_url, _env_file=None)
    cfg: RunnableConfig = {"configurable": {"thread_id": uuid.uuid4().hex}}
    try:
        with open_checkpointer(s) as saver:
            graph = _graph(saver, make_proposal)
            graph.invoke({"count": 41}, cfg, durability="sync")
            ctx = multiprocessing.get_context("fork")
            queue = ctx.Queue()
            child = ctx.Process(target=_child_reads, args=(pg_url, cfg["configurable"]["thread_id"], queue))
            child.start()
            child.join(30)
            assert child.exitcode == 0
            assert queue.get(timeout=5) == 42
            # The parent's pooled connections still work after the child exited.
            assert graph.get_state(cfg).values["count"] == 42
            graph.invoke({"count": 1}, {"configurable": {"thread_id": uuid.uuid4().hex}}, durability="sync")
    finally:
        close_pools()
