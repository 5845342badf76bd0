"""Pure stand-up analytics: activity digest, blockers, at-risk tasks, burndown, chart.

Inputs are plain snapshots (`models.py`) built by the stand-up agent from Asana reads; nothing
here performs I/O apart from `chart.render_png`, which returns bytes.
"""
