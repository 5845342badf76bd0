from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.asana_client.fake_asana import FakeAsana
from tools.asana import AsanaClient, RetryPolicy

TOKEN = "test-token-abcdef123456"


class FakeTime:
    """Injected clock + sleep: sleeping advances the clock instantly, and is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> Iterator[FakeAsana]:
    server = FakeAsana().start()
    yield server
    server.stop()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(fake: FakeAsana, fake_time: FakeTime) -> Iterator[AsanaClient]:
    policy = RetryPolicy(max_attempts=4, sleep=fake_time.sleep, clock=fake_time.clock)
    c = AsanaClient(fake.base_url, TOKEN, retry=policy)
    yield c
    c.close()
