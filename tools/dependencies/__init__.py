"""Dependency analytics: task graph, cycles, critical path and delay cascades (pure, no I/O)."""
