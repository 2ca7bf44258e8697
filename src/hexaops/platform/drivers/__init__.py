"""Cluster drivers behind one contract (`contract.PlatformDriver`)."""

from __future__ import annotations

from sqlalchemy import Engine

from hexaops.platform.drivers.contract import PlatformDriver
from hexaops.platform.errors import ConfigurationError
from hexaops.settings import Settings


def create_driver(settings: Settings, engine: Engine) -> PlatformDriver:
    """The driver named by HEXAOPS_DRIVER."""
    if settings.driver == "sandbox":
        from hexaops.platform.drivers.sandbox import SandboxDriver

        return SandboxDriver(engine)
    if settings.driver == "kubernetes":
        from hexaops.platform.drivers.kubernetes import KubernetesDriver, host_client

        kubeconfig = str(settings.kubeconfig) if settings.kubeconfig is not None else None
        return KubernetesDriver(
            host_client(kubeconfig, settings.kube_context),
            chart_version=settings.vcluster_chart_version,
            wait_seconds=settings.kube_wait_seconds,
        )
    raise ConfigurationError(
        f"HEXAOPS_DRIVER={settings.driver!r} is not available in this version: use 'sandbox' or 'kubernetes'"
    )
