"""Backlog refinement (triage): estimate, criteria, priority and risk for new or unestimated tasks."""

from agents.triage.args import TriageArgs
from agents.triage.specialist import TRIAGE_NAME, run_triage, triage_specialist

__all__ = ["TRIAGE_NAME", "TriageArgs", "run_triage", "triage_specialist"]
