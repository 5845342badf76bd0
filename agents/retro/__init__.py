"""The retrospective agent: sprint numbers, sentiment, themes → retro notes and action items."""

from agents.retro.specialist import RETRO_NAME, RetroArgs, retro_specialist

__all__ = ["RETRO_NAME", "RetroArgs", "retro_specialist"]
