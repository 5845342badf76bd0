"""OAuth 2.0 to Asana (authorization code + PKCE, refresh tokens) as an alternative to a PAT:
`client` speaks to Asana's endpoints, `tokens` keeps each user's tokens encrypted in the app DB,
`login` runs the CLI's `sprintpilot auth login` flow."""
