"""Backlog refinement analytics (pure): acceptance criteria, AI Priority Score, risk flags,
near-duplicates of a request, and what a request lacks."""
