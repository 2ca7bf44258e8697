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
    raise ConfigurationError(
        f"HEXAOPS_DRIVER={settings.driver!r} is not available in this version: use 'sandbox'"
    )
