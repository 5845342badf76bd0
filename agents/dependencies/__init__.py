"""The dependency manager: dependency graph, cycles, critical path and delay cascades."""

from agents.dependencies.specialist import DEPENDENCIES_NAME, DependencyArgs, dependencies_specialist

__all__ = ["DEPENDENCIES_NAME", "DependencyArgs", "dependencies_specialist"]
