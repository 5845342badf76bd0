"""`release_free_memory` (tools/heap.py): freed heap pinned by scattered live chunks goes back to
the OS, which is what keeps `eval replay`'s resident size from climbing sprint after sprint."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tools.heap import release_free_memory


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc")
def test_freed_heap_pinned_by_live_chunks_is_returned() -> None:
    kept: list[bytearray] = []
    junk: list[bytearray] = []
    for i in range(150_000):  # ~150 MB of malloc'd chunks, one in 50 kept alive among them
        junk.append(bytearray(1000))
        if i % 50 == 0:
            kept.append(bytearray(1000))
    del junk
    freed = _rss_mb()  # glibc keeps it: the live chunks pin the heap's top
    assert release_free_memory()
    assert _rss_mb() < freed - 80, "most of the ~150 MB freed should be back with the OS"
    assert len(kept) == 3000
