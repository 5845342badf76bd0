"""Ceremony preparation: agendas for planning, review and retro, as a task with an .ics invite."""

from agents.ceremonies.specialist import CEREMONY_NAME, CeremonyArgs, ceremony_specialist

__all__ = ["CEREMONY_NAME", "CeremonyArgs", "ceremony_specialist"]
