"""Log tools (toolset "logs"): summaries by template, search, top errors, raw LogQL."""

from hexaops.tools.logs import tools as tools

__all__ = ["tools"]
