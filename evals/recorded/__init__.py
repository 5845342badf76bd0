"""Recorded sprints: an Asana-shaped snapshot, day-by-day events and the real outcome (see FORMAT.md)."""

from evals.recorded.io import FormatError, load_recorded, load_recorded_dir, save_recorded
from evals.recorded.models import FORMAT_NAME, FORMAT_VERSION, RecordedSprint

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "FormatError",
    "RecordedSprint",
    "load_recorded",
    "load_recorded_dir",
    "save_recorded",
]
