"""Periodic jobs (plain functions; the Celery beat schedule in service/worker wires them)."""
