"""The Redis-shared Asana quota: Retry-After honoured across clients, ≤ 15 writes in flight across
clients, per-minute window, leases that expire (real Redis, a dedicated DB, flushed per test)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis

from sandbox.generator import generate_workspace
from sandbox.server import SandboxServer
from tools.asana.client import AsanaClient
from tools.asana.shared_limits import SharedQuota, install_shared_limits

pytestmark = pytest.mark.integration
LIMITER_DB = 12  # this folder's own Redis DB: only it is flushed


@pytest.fixture
def rdb(redis_url: str) -> Iterator[redis.Redis]:
    base = redis_url.rsplit("/", 1)[0]
    client = redis.Redis.from_url(f"{base}/{LIMITER_DB}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_retry_after_blocks_every_process_with_the_token_fake_clock(rdb: redis.Redis) -> None:
    clock = FakeClock()
    a = SharedQuota(rdb, "tok", clock=clock, sleep=clock.sleep)
    b = SharedQuota(rdb, "tok", clock=clock, sleep=clock.sleep)
    other = SharedQuota(rdb, "other-token", clock=clock, sleep=clock.sleep)
    a.block_for(30)
    a.block_for(5)  # a shorter, later 429 never shortens the block
    start = clock.now
    with b.slot(is_write=True):
        assert clock.now - start >= 30
    with other.slot(is_write=True):
        pass
    assert clock.now - start == pytest.approx(30, abs=0.01)  # other tokens are not blocked


def test_per_minute_window_is_shared(rdb: redis.Redis) -> None:
    clock = FakeClock()
    quotas = [SharedQuota(rdb, "tok", per_minute=3, clock=clock, sleep=clock.sleep) for _ in range(2)]
    for i in range(3):
        with quotas[i % 2].slot(is_write=False):
            pass
    start = clock.now
    with quotas[1].slot(is_write=False):
        pass
    assert clock.now - start >= 60 - 0.01  # the 4th request waits for the first to leave the window


def test_a_killed_holders_slot_expires_with_its_lease(rdb: redis.Redis) -> None:
    clock = FakeClock()
    quota = SharedQuota(rdb, "tok", max_writes=1, lease_s=10, clock=clock, sleep=clock.sleep)
    quota._acquire_slot("writes", 1, clock.now)  # taken and never released: its process died
    start = clock.now
    with quota.slot(is_write=True):
        pass
    assert 10 <= clock.now - start < 11


def test_429_retry_after_makes_the_other_client_wait(rdb: redis.Redis) -> None:
    ws = generate_workspace(seed=7)
    with SandboxServer(ws.store, ws.token, faults="burst429=1,retry_after=2") as server:
        clients = [AsanaClient(server.base_url, ws.token) for _ in range(2)]
        for c in clients:
            install_shared_limits(c, SharedQuota(rdb, ws.token))
        first_done: list[float] = []
        t0 = time.monotonic()

        def first() -> None:
            clients[0].me()
            first_done.append(time.monotonic())

        thread = threading.Thread(target=first)
        thread.start()
        time.sleep(0.3)  # the first client has had its 429 by now
        clients[1].me()
        second = time.monotonic() - t0
        thread.join()
        for c in clients:
            c.close()
        statuses = [e.status for e in server.store.stats.log]
    assert statuses.count(429) == 1
    assert first_done[0] - t0 >= 2.0  # the client that got the 429 waited Retry-After
    assert second >= 2.0  # and so did the other one, which never saw a 429 itself


def test_concurrent_writes_across_clients_never_exceed_15(rdb: redis.Redis) -> None:
    ws = generate_workspace(seed=7)
    task_gids = list(ws.store.tasks)[:60]
    with SandboxServer(ws.store, ws.token, faults="latency=60") as server:
        # Three clients, as three worker processes would have: each alone would allow 15.
        clients = [AsanaClient(server.base_url, ws.token) for _ in range(3)]
        for c in clients:
            install_shared_limits(c, SharedQuota(rdb, ws.token))
        errors: list[BaseException] = []

        def write(i: int, gid: str) -> None:
            try:
                clients[i % 3].update_task(gid, {"notes": f"burst {i}"})
            except BaseException as err:  # noqa: BLE001
                errors.append(err)

        threads = [threading.Thread(target=write, args=(i, g)) for i, g in enumerate(task_gids)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        peak = server.services.quotas.snapshot()["max_concurrent_writes_seen"]
        for c in clients:
            c.close()
    assert not errors
    assert 10 <= peak <= 15, peak
