"""Backlog refinement analytics (pure): acceptance criteria, AI Priority Score, risk flags."""
