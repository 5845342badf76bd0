"""Live accuracy: was what sprintpilot predicted right? Pure computation, no I/O.

`compute_scorecard(predictions, outcomes)` turns what each agent predicted (estimates, at-risk
and delay flags, forecast bands, nudges, proposed actions) and what then happened (actual points,
what slipped, delivered points, changes after a nudge, decisions) into a per-agent `Scorecard`.
The live product (agents/scorecard) and the replay eval (evals/replay/scorecard.py) both feed it,
and the replay scorers use the same metric functions (`metrics.py`), so their numbers are equal
by construction.
"""
