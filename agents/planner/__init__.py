"""The sprint planner: backlog → scored, dependency-safe, capacity-fitting sprint proposal."""

from agents.planner.specialist import PLANNER_NAME, PlannerArgs, planner_specialist

__all__ = ["PLANNER_NAME", "PlannerArgs", "planner_specialist"]
