"""Pure forecasting: Monte Carlo velocity and throughput, completion probability, done-date distribution,
capacity, and the walk-forward backtest that picks points or throughput per team."""

from tools.forecast.backtest import Backtest, walk_forward
from tools.forecast.capacity import CapacityReport, PersonLoad, capacity_report
from tools.forecast.montecarlo import (
    DoneDistribution,
    VelocityForecast,
    completion_probability,
    how_much_by,
    velocity_forecast,
    when_done,
)
from tools.forecast.throughput import items_by, items_when_done, throughput_forecast

__all__ = [
    "Backtest",
    "CapacityReport",
    "DoneDistribution",
    "PersonLoad",
    "VelocityForecast",
    "capacity_report",
    "completion_probability",
    "how_much_by",
    "items_by",
    "items_when_done",
    "throughput_forecast",
    "velocity_forecast",
    "walk_forward",
    "when_done",
]
