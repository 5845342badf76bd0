"""`sprintpilot mcp`: sprintpilot as an MCP server on stdio (Claude Desktop, VS Code, …).

The session acts as one Asana user: `--user EMAIL` (an Asana user of the workspace), else the
configured token's own user. See README "MCP server".
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.errors import friendly


@friendly
def mcp(
    user: Annotated[
        str | None,
        typer.Option(
            help="The Asana user (email or gid) this session acts for; default: the token's own user."
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Where the embedded DB and sandbox state live.", show_default=False),
    ] = None,
) -> None:
    """Run the MCP server on stdio (for Claude Desktop, VS Code and other MCP clients)."""
    from service.cli.run_agent import load_settings
    from service.mcp.stdio import serve_stdio

    serve_stdio(load_settings(data_dir), user)
