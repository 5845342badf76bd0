"""Delay risk: a classifier for "will this task finish after its due date?" and its explanations.

`features` documents every input (when it is known, and whether the product can read it from
Asana); `history` computes the team's record as of a task's moment; `asana_features` maps Asana
tasks to both; `model` trains and explains the classifier; `task_score` turns a cascade result
into the 0–100 Risk Score written to Asana.
"""
