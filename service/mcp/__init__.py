"""sprintpilot as a Model Context Protocol server (`sprintpilot mcp` on stdio, `/mcp` on `serve`).

Built on the official `mcp` SDK's `MCPServer` (server.py). Tools come from the specialist registry
(catalog.py): read tools run a specialist's compute only and answer with its evidence; proposal tools
start a run that waits for approval elsewhere. The MCP session is an Asana user (session.py) and
sees only what that user can see. Nothing here runs at import time.
"""
