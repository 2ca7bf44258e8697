"""KubernetesDriver: the driver's parts put together (see the package docstring)."""

from __future__ import annotations

from hexaops.platform.drivers.kubernetes.diagnostics import _Diagnostics
from hexaops.platform.drivers.kubernetes.maintenance import _Maintenance
from hexaops.platform.drivers.kubernetes.workspaces import _Workspaces


class KubernetesDriver(_Workspaces, _Maintenance, _Diagnostics):
    """PlatformDriver on a host cluster with vCluster + Flux (see the package docstring)."""

    name = "kubernetes"
