"""SandboxDriver: the sandbox driver's parts put together (see the package docstring)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hexaops.platform.db.models import SandboxObject
from hexaops.platform.drivers.sandbox.diagnostics import _Diagnostics
from hexaops.platform.drivers.sandbox.maintenance import _Maintenance
from hexaops.platform.drivers.sandbox.workspaces import _Workspaces


class SandboxDriver(_Workspaces, _Maintenance, _Diagnostics):
    """Driver over the simulated cluster. Each call is one transaction on the sandbox store."""

    name = "sandbox"

    def list_objects(self, cluster: str | None = None) -> list[dict[str, Any]]:
        """Every object of the sandbox (or of one vCluster), for status views and tests."""
        with self._sessions() as session:
            query = select(SandboxObject).order_by(
                SandboxObject.cluster,
                SandboxObject.kind,
                SandboxObject.namespace,
                SandboxObject.name,
            )
            if cluster is not None:
                query = query.where(SandboxObject.cluster == cluster)
            return [
                {"cluster": o.cluster, "kind": o.kind, "namespace": o.namespace, "name": o.name}
                for o in session.scalars(query)
            ]
