"""Analytics tools (toolset "analytics"): read-only, tenant-scoped SQL over the telemetry."""

from hexaops.tools.analytics import tools as tools

__all__ = ["tools"]
