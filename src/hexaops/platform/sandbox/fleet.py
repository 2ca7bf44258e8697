"""A synthetic fleet for load tests: many workspaces with many deployments, straight on the driver.

`hexaops bench sandbox` sizes the simulation with it (50 workspaces x 20 deployments); going
through the driver rather than the action pipeline keeps the setup seconds, not minutes.
"""

from __future__ import annotations

from hexaops.platform.domain import Quota, Resources
from hexaops.platform.drivers.contract import (
    ApplicationSpec,
    NamespaceRef,
    WorkloadRef,
    WorkspaceSpec,
)
from hexaops.platform.drivers.sandbox import SandboxDriver

FLEET_ORG = "bench"
FLEET_QUOTA = Quota(cpu_millis=64_000, memory_bytes=256 * 2**30, pods=500)


def provision_fleet(
    driver: SandboxDriver, workspaces: int = 50, deployments: int = 20, replicas: int = 3
) -> int:
    """Create `workspaces` shared workspaces of `deployments` applications; returns pod count."""
    resources = Resources.parse("100m", "128Mi", "500m", "256Mi")
    for w in range(workspaces):
        ws = f"ws-{w:03d}"
        namespace = NamespaceRef(org=FLEET_ORG, workspace=ws, namespace="apps")
        driver.provision_workspace(
            namespace.workspace_ref, WorkspaceSpec(plan="shared", kubernetes_version="1.34")
        )
        driver.create_namespace(namespace, FLEET_QUOTA)
        for d in range(deployments):
            ref = WorkloadRef(org=FLEET_ORG, workspace=ws, namespace="apps", name=f"svc-{d:02d}")
            spec = ApplicationSpec(
                image=f"ghcr.io/bench/svc-{d:02d}:1.0.0",
                replicas=replicas,
                resources=resources,
                revision=1,
            )
            driver.apply_application(ref, spec)
    return workspaces * deployments * replicas
