"""The `sprintpilot` command line."""
