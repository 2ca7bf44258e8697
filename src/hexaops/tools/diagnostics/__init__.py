"""Kubernetes diagnostics: analyzers over what the cluster shows, and the tools that run them.

Importing the package registers the analyzers and the tools `diagnose`, `k8s_events` and
`k8s_pod_logs` (toolset "diagnostics").
"""

from hexaops.tools.diagnostics import analyzers, tools

__all__ = ["analyzers", "tools"]
