"""Workspaces (a VCluster object on the host) and the namespaces with quotas in them."""

from __future__ import annotations

from sqlalchemy import delete

from hexaops.platform.db.models import SandboxObject
from hexaops.platform.domain import Quota
from hexaops.platform.drivers.contract import (
    NamespaceRef,
    ObservedWorkspace,
    WorkspaceRef,
    WorkspaceSpec,
)
from hexaops.platform.drivers.sandbox.store import HOST, _Store


class _Workspaces(_Store):
    """Workspaces and namespaces."""

    def provision_workspace(self, ref: WorkspaceRef, spec: WorkspaceSpec) -> ObservedWorkspace:
        observed = ObservedWorkspace(
            status="ready",
            message="vCluster is running",
            api_endpoint=f"https://{ref.host_namespace}.vcluster.sandbox.local",
            kubernetes_version=spec.kubernetes_version,
        )
        with self._sessions.begin() as session:
            self._put(
                session,
                HOST,
                "VCluster",
                ref.host_namespace,
                "vcluster",
                # org and workspace label the telemetry; the digest in the name can't be reversed.
                {**spec.model_dump(mode="json"), "org": ref.org, "workspace": ref.workspace},
                observed.model_dump(mode="json"),
            )
        return observed

    def delete_workspace(self, ref: WorkspaceRef) -> None:
        with self._sessions.begin() as session:
            session.execute(
                delete(SandboxObject).where(SandboxObject.cluster == ref.host_namespace)
            )
            session.execute(
                delete(SandboxObject).where(
                    SandboxObject.cluster == HOST, SandboxObject.namespace == ref.host_namespace
                )
            )

    def get_workspace(self, ref: WorkspaceRef) -> ObservedWorkspace | None:
        with self._sessions() as session:
            obj = session.get(SandboxObject, (HOST, "VCluster", ref.host_namespace, "vcluster"))
            return None if obj is None else ObservedWorkspace.model_validate(obj.status)

    # -- namespaces ------------------------------------------------------------------------

    def create_namespace(self, ref: NamespaceRef, quota: Quota) -> None:
        with self._sessions.begin() as session:
            self._require_vcluster(session, ref.workspace_ref)
            self._put(
                session,
                ref.workspace_ref.host_namespace,
                "Namespace",
                "",
                ref.namespace,
                {"quota": quota.model_dump()},
                {"phase": "Active"},
            )

    def set_quota(self, ref: NamespaceRef, quota: Quota) -> None:
        with self._sessions.begin() as session:
            namespace = self._require_namespace(session, ref)
            namespace.spec = {**namespace.spec, "quota": quota.model_dump()}
            namespace.resource_version += 1

    def delete_namespace(self, ref: NamespaceRef) -> None:
        with self._sessions.begin() as session:
            cluster = ref.workspace_ref.host_namespace
            session.execute(
                delete(SandboxObject).where(
                    SandboxObject.cluster == cluster, SandboxObject.namespace == ref.namespace
                )
            )
            session.execute(
                delete(SandboxObject).where(
                    SandboxObject.cluster == cluster,
                    SandboxObject.kind == "Namespace",
                    SandboxObject.name == ref.namespace,
                )
            )

    def get_quota(self, ref: NamespaceRef) -> Quota | None:
        with self._sessions() as session:
            key = (ref.workspace_ref.host_namespace, "Namespace", "", ref.namespace)
            obj = session.get(SandboxObject, key)
            return None if obj is None else Quota.model_validate(obj.spec["quota"])
