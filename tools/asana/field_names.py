"""Names of the custom fields sprintpilot reads and writes (the workspace contract).

Agents look fields up by these names (`Task.field(name)`, `Task.number(name)`, `FieldMap`), so
each name is spelled once, here. The sandbox generator (`sandbox/generator.py`) creates a workspace
with exactly these fields; a real workspace needs them on its projects.
"""

from __future__ import annotations

# Planning fields, set by the team.
STORY_POINTS = "Story Points"
PRIORITY = "Priority"
BUSINESS_VALUE = "Business Value"
EFFORT = "Effort"
SPRINT = "Sprint"
STATUS = "Status"

# Fields that only carry sprintpilot's own suggestions.
AI_PRIORITY_SCORE = "AI Priority Score"
ESTIMATED_STORY_POINTS = "Estimated Story Points"
RISK_SCORE = "Risk Score"
AI_SUGGESTION = "AI Suggestion"
IMPEDIMENTS = "Impediments"

# The portfolio field the health agent writes on each project (configurable; this is the default).
HEALTH = "Health"
