"""The feedback loop: people telling sprintpilot it was wrong, and the rules that learn from it.

Collected in Asana (a 👎 or "wrong …" reply to an `[AI Proposal]` comment, a human editing an AI
field, a rejected action) by service/events/routes_feedback.py and service/approvals.py, stored by
service/db/feedback.py; used through the pure rules here:

- `corrections`: human-corrected story points become the task's ground truth in the estimator's index;
- `thresholds`: the delay-risk threshold and the stand-up's at-risk horizon move with confirmed
  misses and false alarms (bounded, only after a minimum count);
- `suppression`: a kind of suggestion people keep rejecting in a project is held back for a while.
"""
