"""Hand the heap's free memory back to the operating system after a big piece of work.

A long process that builds and drops large structures again and again (`eval replay`: a whole
sandbox, its indexes and its graph per sprint) keeps glibc's freed pages, so its resident size
climbs sprint after sprint although Python's live objects stay flat (issue 23: tracemalloc saw
under 4 MB of growth over ten sprints while RSS grew 130 MB). `malloc_trim(0)` returns them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache
from typing import Any


@cache
def _libc() -> Any:
    """glibc, or None where there is no `malloc_trim` (musl, macOS): then nothing is trimmed."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_free_memory() -> bool:
    """Collect cycles, then return free heap pages to the OS; True where the C library could."""
    gc.collect()
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
