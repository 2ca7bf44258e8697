"""Security tools: `trivy config` on the rendered manifests, image vulnerabilities ranked by
the exposure of the workloads running them, and image bumps requested as platform actions.

Importing this package registers the tools."""

from hexaops.tools.security import tools as tools

__all__ = ["tools"]
