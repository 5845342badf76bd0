"""The forecast agent: Monte Carlo velocity, scope done-dates, capacity vs workload."""

from agents.forecast.specialist import FORECAST_NAME, ForecastArgs, forecast_specialist

__all__ = ["FORECAST_NAME", "ForecastArgs", "forecast_specialist"]
