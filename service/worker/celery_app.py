"""`celery -A service.worker.celery_app` entry point.

The app is built on first attribute access (PEP 562), so importing this module reads no settings
and opens nothing; the settings themselves are read when Celery first needs its configuration.
"""

from __future__ import annotations

from typing import Any

_app: Any = None


def __getattr__(name: str) -> Any:
    global _app
    if name in ("app", "celery"):
        if _app is None:
            from service.worker.app import make_celery

            _app = make_celery()
        return _app
    raise AttributeError(name)
