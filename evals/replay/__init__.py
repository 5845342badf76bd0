"""Replay recorded sprints through the sandbox and the agents, and score what they proposed."""
