"""Pure forecasting: Monte Carlo velocity, completion probability, done-date distribution, capacity."""

from tools.forecast.capacity import CapacityReport, PersonLoad, capacity_report
from tools.forecast.montecarlo import (
    DoneDistribution,
    VelocityForecast,
    completion_probability,
    how_much_by,
    velocity_forecast,
    when_done,
)

__all__ = [
    "CapacityReport",
    "DoneDistribution",
    "PersonLoad",
    "VelocityForecast",
    "capacity_report",
    "completion_probability",
    "how_much_by",
    "velocity_forecast",
    "when_done",
]
