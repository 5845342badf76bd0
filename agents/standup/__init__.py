"""The daily stand-up: sprint activity → progress, blockers, at-risk tasks, burndown → auto writes."""

from agents.standup.specialist import STANDUP_NAME, StandupArgs, standup_specialist
from agents.standup.threads import standup_thread_id

__all__ = ["STANDUP_NAME", "StandupArgs", "standup_specialist", "standup_thread_id"]
