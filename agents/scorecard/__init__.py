"""The live accuracy scorecard agent."""

from agents.scorecard.specialist import SCORECARD_NAME, ScorecardArgs, scorecard_specialist

__all__ = ["SCORECARD_NAME", "ScorecardArgs", "scorecard_specialist"]
