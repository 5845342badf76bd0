"""Celery side of the event pipeline: app factory, tasks, delivery guard, per-process runtime."""
