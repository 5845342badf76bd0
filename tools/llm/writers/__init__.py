"""Offline writers of the specialists, one module per agent (e.g. `triage.py`, `standup.py`).

Each module registers its writers with `tools.llm.offline.register`; `load_writers()` imports
them all once, on the first offline write, so adding an agent never means editing a shared list.
"""

from __future__ import annotations

import importlib
import pkgutil

_loaded = False


def load_writers() -> None:
    global _loaded
    if _loaded:
        return
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True
