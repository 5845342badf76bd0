"""Definition of Done: the configurable checklist, its loader and the pure checks behind QA review.

Everything here is pure (no Asana, no model): a `TaskSnapshot` and a `DodConfig` go in, a
`DodReport` with one finding per unmet item (and what would satisfy it) comes out.
"""

from tools.dod.checks import evaluate
from tools.dod.config import DodConfig, OnPass, default_config
from tools.dod.models import DodReport, Finding, TaskSnapshot

__all__ = ["DodConfig", "DodReport", "Finding", "OnPass", "TaskSnapshot", "default_config", "evaluate"]
