"""The retrospective agent: sprint numbers, sentiment, themes → retro notes and action items."""

from agents.retro.review import SPRINT_REVIEW_NAME, SprintReviewArgs, sprint_review_specialist
from agents.retro.specialist import RETRO_NAME, RetroArgs, retro_specialist

__all__ = [
    "RETRO_NAME",
    "SPRINT_REVIEW_NAME",
    "RetroArgs",
    "SprintReviewArgs",
    "retro_specialist",
    "sprint_review_specialist",
]
