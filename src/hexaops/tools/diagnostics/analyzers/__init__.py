"""The analyzers, one concern per module; importing this package registers them all."""

from hexaops.tools.diagnostics.analyzers import (
    certificate,
    crashloop,
    disk_full,
    dns,
    endpoints,
    hpa,
    image_pull,
    network_policy,
    node_pressure,
    oom,
    pending,
    probes,
    quota,
    unavailable,
)

__all__ = [
    "certificate",
    "crashloop",
    "disk_full",
    "dns",
    "endpoints",
    "hpa",
    "image_pull",
    "network_policy",
    "node_pressure",
    "oom",
    "pending",
    "probes",
    "quota",
    "unavailable",
]
