"""The portfolio-health agent."""

from agents.health.specialist import HEALTH_NAME, HealthArgs, health_specialist

__all__ = ["HEALTH_NAME", "HealthArgs", "health_specialist"]
