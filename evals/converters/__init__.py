"""Converters from public sprint datasets into recorded sprints (evals/recorded)."""
