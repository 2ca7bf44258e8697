"""The agents' toolsets as an MCP server (`hexaops mcp`): stdio for a local client acting as one
user, streamable HTTP for remote clients with a bearer token per connection."""

from __future__ import annotations

from hexaops.ui.mcp.http import mcp_http_app
from hexaops.ui.mcp.server import ToolServer, serve_stdio

__all__ = ["ToolServer", "mcp_http_app", "serve_stdio"]
