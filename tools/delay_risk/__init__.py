"""Delay risk: a classifier for "will this task finish after its due date?" and its explanations.

`features` documents every input (and when it is known); `model` trains and explains the
classifier; `task_score` turns a cascade result into the 0–100 Risk Score written to Asana.
"""
