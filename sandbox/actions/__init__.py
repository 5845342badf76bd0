"""API semantics of the sandbox: validation, system stories and events for each change."""
