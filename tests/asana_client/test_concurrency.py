from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from tests.asana_client.conftest import TOKEN
from tests.asana_client.fake_asana import FakeAsana, Reply, Request
from tools.asana import AsanaClient


def test_reads_and_writes_are_capped_separately(fake: FakeAsana) -> None:
    lock = threading.Lock()
    peaks = {"GET": 0, "POST": 0}
    live = {"GET": 0, "POST": 0}

    def handler(req: Request) -> Reply:
        with lock:
            live[req.method] += 1
            peaks[req.method] = max(peaks[req.method], live[req.method])
        time.sleep(0.03)
        with lock:
            live[req.method] -= 1
        status = 201 if req.method == "POST" else 200
        return Reply(status, {"data": {"gid": "1", "name": "x", "type": "comment"}})

    fake.handler = handler
    with (
        AsanaClient(fake.base_url, TOKEN, max_reads=4, max_writes=2) as client,
        ThreadPoolExecutor(16) as pool,
    ):
        futures: list[Future[object]] = [pool.submit(client.task, str(i)) for i in range(24)]
        futures += [pool.submit(client.add_comment, str(i), "hi") for i in range(12)]
        for f in futures:
            f.result()
        assert client.limits.peak == {"read": 4, "write": 2}
    assert peaks["GET"] <= 4 and peaks["POST"] <= 2
    assert peaks["GET"] >= 2  # really concurrent, not serialised
