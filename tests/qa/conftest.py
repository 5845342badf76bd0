from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.server import SandboxServer
from tests.qa.world import TOKEN, QaWorld, attach_graph, build_store
from tools.asana.client import AsanaClient


@pytest.fixture
def qa_world() -> Iterator[QaWorld]:
    store, g = build_store()
    with SandboxServer(store, TOKEN) as server, AsanaClient(server.base_url, TOKEN) as asana:
        w = QaWorld(store=store, server=server, asana=asana, **g)
        attach_graph(w)
        yield w
