"""The web console served by `sprintpilot serve` at `/` (issue 19).

Plain server-rendered HTML over the same single decision path as the CLI and the HTTP API
(`service.approvals.decide`): the console never re-implements approval logic, it only turns form
fields into `Decision`s and shows what the gate answered. `service.console.app.include_console`
mounts it; importing this package has no side effects.
"""
