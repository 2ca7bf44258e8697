"""The kubernetes driver: the conformance suite on kmock API emulators, plus its own promises.

One kmock emulator plays the K3s host; each HelmRelease the driver creates starts another one
playing that workspace's vCluster API server, and its kubeconfig goes where vCluster puts it
(Secret vc-vcluster, key config), so the driver finds it exactly as on a real cluster.

kmock is an API emulator without controllers, and has gaps; `_Emulator` fills what the driver
relies on (each is named where it is done):
  - namespaces: kmock answers 500 on POST /api/v1/namespaces (it parses "namespaces" as the
    namespace of a path), so namespaces are served here, with cascading deletion and 404 for
    creates into a missing namespace, as the real API server does;
  - label selectors: kmock ignores ?labelSelector= on lists, so equality selectors are applied
    here (the driver lists an application's pods by label);
  - eviction: kmock takes POST pods/<name>/eviction for a create of the pod (409), so the
    Eviction subresource is served here (the pod goes, as with no PodDisruptionBudget);
  - fake controllers, run right after each write so the driver's first poll sees them converged:
    the Deployment controller (pods per template hash, status, metadata.generation — kmock does
    not bump it; a deleted pod is replaced), Flux's helm-controller (Ready condition, vCluster
    API + kubeconfig Secret; the vCluster starts with kube-system/coredns as vCluster does),
    cert-manager's issuing controller (Issuing=True → a new revision, Ready), and the node-pool
    provisioner, which is outside the driver on a real platform: a dedicated HelmRelease gets
    POOL_NODES host nodes labelled hexaops.io/node-pool=<host namespace>, a shared one none.
  - vCluster servers are bare aiohttp RawTestServers: kmock.Server installs a DNS interceptor
    that must be exited in LIFO order, and vClusters are deleted in any order;
  - the emulators run on their own event loop thread, since the driver's client is synchronous.
  - pod logs: kmock serves no pods/<name>/log subresource, so every vCluster answers it with a
    fixed stub text (`_POD_LOG`, ignoring tailLines: the driver bounds the lines itself);
  - Events: the fake Deployment controller records them as the real controllers do
    (ScalingReplicaSet on the Deployment when a ReplicaSet's size changes, Killing on a deleted
    pod), aggregated per object and reason with a count, as the API server's correlator does.
No HPA controller is faked: the driver clamps replicas itself (see KubernetesDriver.set_hpa).
Not needed, so not stubbed: /version (the driver never calls it).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import re
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiohttp.web
import attrs
import kmock
import pytest
import yaml
from aiohttp.test_utils import RawTestServer
from kubernetes.client import ApiClient, Configuration
from kubernetes.client.exceptions import ApiException
from sqlalchemy import create_engine

from hexaops.platform.domain import Quota
from hexaops.platform.drivers import create_driver
from hexaops.platform.drivers.contract import NamespaceRef
from hexaops.platform.drivers.kubernetes import (
    A_RESTARTED_AT,
    POOL_LABEL,
    KubernetesDriver,
    api_error,
    host_client,
)
from hexaops.platform.errors import ConfigurationError, DriverError
from hexaops.settings import Settings

from .conformance import (
    DEDICATED,
    FUNCTION,
    QUOTA,
    SHARED,
    V1,
    ClusterSeeder,
    DriverConformance,
    ns,
    wl,
    ws,
)

# kmock's load_bundled() uses a deprecated importlib.resources call.
pytestmark = pytest.mark.filterwarnings("ignore:read_binary is deprecated:DeprecationWarning")

T = TypeVar("T")
Controller = Callable[["_Emulator", kmock.Request], Awaitable[None]]

_NAMESPACE_PATH = re.compile(r"^/api/v1/namespaces(?:/([^/]+))?/?$")
_WRITES = (kmock.action.CREATE, kmock.action.UPDATE, kmock.action.DELETE)
POOL_NODES = 2  # what DEDICATED in conformance.py asks for
_POD_LOG = "".join(f"2026-01-05T00:00:0{i}Z INFO request summary rps=1.0\n" for i in range(5))
_CRDS = {
    "cert-manager.io/v1/certificates": "Certificate",
    "helm.toolkit.fluxcd.io/v2/helmreleases": "HelmRelease",
    "source.toolkit.fluxcd.io/v1/helmrepositories": "HelmRepository",
    "serving.knative.dev/v1/services": "Service",
}


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7386 merge patch."""
    merged = dict(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _error(status: int, reason: str, message: str) -> aiohttp.web.Response:
    status_body = {"kind": "Status", "apiVersion": "v1", "status": "Failure"}
    return aiohttp.web.json_response(
        {**status_body, "code": status, "reason": reason, "message": message}, status=status
    )


@attrs.define(kw_only=True)
class _Emulator(kmock.KubernetesEmulator):
    """kmock's emulator with the gaps above filled and a fake controller after each write."""

    controller: Controller | None = None
    namespaces: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    on_namespace_deleted: Callable[[str], Awaitable[None]] | None = None

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        match = _NAMESPACE_PATH.match(raw_request.path)
        if match:  # gap: kmock fails parsing namespace URLs, before any reaction can apply
            body = await raw_request.read()
            data = json.loads(body) if body else {}
            return await self._serve_namespace(raw_request.method, data, match.group(1))
        return await super().__call__(raw_request)

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        if request.resource == kmock.resource("v1/pods") and request.subresource == "eviction":
            return await self._evict(request)  # gap: kmock takes it for a create of the pod
        if request.action == kmock.action.LIST and "labelSelector" in request.params:
            return self._serve_selected(request)  # gap: kmock ignores label selectors
        if (
            request.action == kmock.action.CREATE
            and request.namespace is not None
            and request.namespace not in self.namespaces
        ):
            return _error(404, "NotFound", f'namespaces "{request.namespace}" not found')
        response = await super()._handle(request)
        if request.action in _WRITES and response.status < 400 and self.controller is not None:
            await self.controller(self, request)
        return response

    async def _serve_namespace(
        self, method: str, data: dict[str, Any], name: str | None
    ) -> aiohttp.web.StreamResponse:
        if name is None and method == "GET":
            return aiohttp.web.json_response({"items": list(self.namespaces.values())})
        if name is None and method == "POST":
            name = str(data["metadata"]["name"])
            if name in self.namespaces:
                return _error(409, "AlreadyExists", f'namespaces "{name}" already exists')
            self.namespaces[name] = {
                **data,
                "apiVersion": "v1",
                "kind": "Namespace",
                "status": {"phase": "Active"},
            }
            return aiohttp.web.json_response(self.namespaces[name], status=201)
        if name is None or name not in self.namespaces:
            return _error(404, "NotFound", f'namespaces "{name}" not found')
        if method == "PATCH":
            self.namespaces[name] = _merge(self.namespaces[name], data)
        elif method == "DELETE":
            gone = self.namespaces.pop(name)
            # The namespace controller deletes everything in it (instantly, here).
            for (_, namespace, _), obj in list(self.objects.items()):
                if namespace == name and not obj.deleted:
                    obj.delete()
            if self.on_namespace_deleted is not None:
                await self.on_namespace_deleted(name)
            return aiohttp.web.json_response(gone)
        return aiohttp.web.json_response(self.namespaces[name])

    async def _evict(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        key = kmock.resource("v1/pods"), request.namespace, request.name or ""
        if key not in self.objects or self.objects[key].deleted:
            return _error(404, "NotFound", f'pods "{request.name}" not found')
        self.objects[key].delete()
        body = {"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 201}
        return aiohttp.web.json_response(body, status=201)

    def _serve_selected(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        wanted = dict(
            term.split("=", 1) for term in request.params["labelSelector"].split(",") if term
        )
        items = [
            obj.raw
            for (resource, namespace, _), obj in self.objects.items()
            if resource == request.resource
            and (request.namespace is None or namespace == request.namespace)
            and not obj.deleted
            and wanted.items() <= obj.raw.get("metadata", {}).get("labels", {}).items()
        ]
        return aiohttp.web.json_response({"metadata": {"resourceVersion": "1"}, "items": items})

    def live(self, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """The current objects of a resource (for controllers and assertions)."""
        return [
            obj.raw
            for (res, obj_namespace, _), obj in self.objects.items()
            if res == kmock.resource(resource)
            and (namespace is None or obj_namespace == namespace)
            and not obj.deleted
        ]


def _new_emulator(controller: Controller | None) -> _Emulator:
    emulator = _Emulator(controller=controller)
    emulator.resources.load_bundled()
    # gap: kmock has no pod logs; a stub answers for every pod (the driver checks the pod first).
    emulator["get", kmock.resource("v1/pods"), kmock.subresource("log")] << kmock.text(_POD_LOG)
    for resource, kind in _CRDS.items():
        emulator.resources[resource] = {"kind": kind, "namespaced": True}
    return emulator


class _FakeDeploymentController:
    """The Deployment controller (with its ReplicaSets folded in): pods per template hash."""

    def __init__(self) -> None:
        self._specs: dict[tuple[str, str], str] = {}
        self._serial = itertools.count()

    async def __call__(self, emulator: _Emulator, request: kmock.Request) -> None:
        namespace = request.namespace or ""
        if request.resource == kmock.resource("v1/pods") and request.action == kmock.action.DELETE:
            pod = request.name or ""
            deployment = pod.rsplit("-", 2)[0]
            _record_event(
                emulator, namespace, "Pod", pod, "Killing", f"Stopping container {deployment}"
            )
            # The ReplicaSet replaces a deleted pod: pod names are <deployment>-<hash>-<suffix>.
            self._reconcile(emulator, namespace, deployment, False)
        elif request.resource == kmock.resource("apps/v1/deployments"):
            name = request.name or request.data.get("metadata", {}).get("name", "")
            self._reconcile(emulator, namespace, name, request.action == kmock.action.DELETE)

    def _reconcile(self, emulator: _Emulator, namespace: str, name: str, deleted: bool) -> None:
        key = kmock.resource("apps/v1/deployments"), namespace, name
        owned = [
            pod
            for pod in emulator.live("v1/pods", namespace)
            if pod["metadata"].get("annotations", {}).get("test/deployment") == name
        ]
        if deleted or key not in emulator.objects or emulator.objects[key].deleted:
            for pod in owned:  # garbage collection of the ReplicaSets' pods
                emulator.objects["v1/pods", namespace, pod["metadata"]["name"]].delete()
            self._specs.pop((namespace, name), None)
            return
        deployment = emulator.objects[key]
        spec = deployment.raw["spec"]
        generation = deployment.raw.get("metadata", {}).get("generation", 0)
        if self._specs.get((namespace, name)) != json.dumps(spec, sort_keys=True):
            generation += 1  # kmock does not bump metadata.generation; the API server does
            self._specs[namespace, name] = json.dumps(spec, sort_keys=True)
        template = spec["template"]
        template_hash = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[
            :10
        ]
        replicas = spec.get("replicas", 1)
        current = []
        old_sizes: dict[str, int] = {}
        for pod in owned:
            if pod["metadata"]["labels"].get("pod-template-hash") == template_hash:
                current.append(pod["metadata"]["name"])
            else:
                old_hash = pod["metadata"]["labels"].get("pod-template-hash", "")
                old_sizes[old_hash] = old_sizes.get(old_hash, 0) + 1
                emulator.objects["v1/pods", namespace, pod["metadata"]["name"]].delete()
        if len(current) != replicas:
            direction = "up" if replicas > len(current) else "down"
            message = f"Scaled {direction} replica set {name}-{template_hash} to {replicas}"
            _record_event(emulator, namespace, "Deployment", name, "ScalingReplicaSet", message)
        for old_hash, size in sorted(old_sizes.items()):
            message = f"Scaled down replica set {name}-{old_hash} from {size} to 0"
            _record_event(emulator, namespace, "Deployment", name, "ScalingReplicaSet", message)
        for extra in current[replicas:]:
            emulator.objects["v1/pods", namespace, extra].delete()
        for _ in range(replicas - len(current)):
            serial = next(self._serial)
            suffix = hashlib.sha256(f"{template_hash}/{serial}".encode()).hexdigest()[:5]
            pod_name = f"{name}-{template_hash}-{suffix}"
            containers = template["spec"]["containers"]
            emulator.objects["v1/pods", namespace, pod_name] = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": pod_name,
                    "namespace": namespace,
                    "labels": {
                        **template["metadata"]["labels"],
                        "pod-template-hash": template_hash,
                    },
                    "annotations": {"test/deployment": name},
                },
                "spec": {"nodeName": f"k3s-node-{serial % 3 + 1}", "containers": containers},
                "status": {
                    "phase": "Running",
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [
                        {
                            "name": c["name"],
                            "image": c["image"],
                            "imageID": "",
                            "ready": True,
                            "restartCount": 0,
                        }
                        for c in containers
                    ],
                },
            }
        deployment.patch(
            {
                "metadata": {"generation": generation},
                "status": {
                    "observedGeneration": generation,
                    "replicas": replicas,
                    "updatedReplicas": replicas,
                    "readyReplicas": replicas,
                    "availableReplicas": replicas,
                },
            }
        )


def _record_event(
    emulator: _Emulator, namespace: str, kind: str, name: str, reason: str, message: str
) -> None:
    """A core/v1 Event about an object, aggregated per object and reason (count, first/last)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # the API's second precision
    event_name = f"{name}.{hashlib.sha256(f'{kind}/{reason}'.encode()).hexdigest()[:16]}"
    key = kmock.resource("v1/events"), namespace, event_name
    if key in emulator.objects and not emulator.objects[key].deleted:
        event = emulator.objects[key]
        count = int(event.raw.get("count", 1)) + 1
        event.patch({"count": count, "lastTimestamp": now, "message": message})
        return
    emulator.objects["v1/events", namespace, event_name] = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": event_name, "namespace": namespace},
        "involvedObject": {"kind": kind, "name": name, "namespace": namespace},
        "reason": reason,
        "type": "Normal",
        "message": message,
        "count": 1,
        "firstTimestamp": now,
        "lastTimestamp": now,
    }


async def _fake_cert_manager(emulator: _Emulator, request: kmock.Request) -> None:
    """cert-manager's issuing controller: a Certificate with Issuing=True gets issued."""
    if request.resource != kmock.resource("cert-manager.io/v1/certificates"):
        return
    key = request.resource, request.namespace, request.name or ""
    if request.action != kmock.action.UPDATE or key not in emulator.objects:
        return
    certificate = emulator.objects[key]
    status = certificate.raw.get("status", {})
    if not any(
        c.get("type") == "Issuing" and c.get("status") == "True"
        for c in status.get("conditions", [])
    ):
        return
    ready = {"type": "Ready", "status": "True", "reason": "Ready", "message": "up to date"}
    certificate.patch(
        {"status": {"conditions": [ready], "revision": int(status.get("revision", 0)) + 1}}
    )


def _vcluster_controllers() -> Controller:
    deployments = _FakeDeploymentController()

    async def run(emulator: _Emulator, request: kmock.Request) -> None:
        await deployments(emulator, request)
        await _fake_cert_manager(emulator, request)

    return run


def _coredns() -> dict[str, Any]:
    """kube-system/coredns as a fresh vCluster runs it (rolled out, one replica)."""
    labels = {"k8s-app": "kube-dns"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "generation": 1},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "coredns", "image": "coredns/coredns:1.12.0"}]},
            },
        },
        "status": {
            "observedGeneration": 1,
            "replicas": 1,
            "updatedReplicas": 1,
            "readyReplicas": 1,
            "availableReplicas": 1,
        },
    }


class FakeCluster:
    """A host emulator plus one vCluster emulator per workspace, on a background event loop.

    The driver's client is synchronous, so the emulators run in their own thread.
    """

    def __init__(self) -> None:
        self.host_url = ""
        self.vclusters: dict[str, tuple[_Emulator, RawTestServer]] = {}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main)
        self._host: _Emulator | None = None

    def __enter__(self) -> FakeCluster:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    @property
    def host(self) -> _Emulator:
        assert self._host is not None
        return self._host

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the emulators' loop (they are not thread-safe)."""
        future: Future[T] = Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed back to the calling thread
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return future.result(10)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._run())
        finally:  # keep-alive connections of the driver's client leave handler tasks behind
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    async def _run(self) -> None:
        self._stop = asyncio.Event()
        host = _new_emulator(self._helm_controller)
        host.on_namespace_deleted = self._stop_vcluster
        async with host, kmock.Server(host) as server:
            self._host, self.host_url = host, str(server.url).rstrip("/")
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                for namespace in list(self.vclusters):
                    await self._stop_vcluster(namespace)

    async def _helm_controller(self, host: _Emulator, request: kmock.Request) -> None:
        """Flux's helm-controller: install the chart (start a vCluster API), report Ready."""
        if request.resource != kmock.resource("helm.toolkit.fluxcd.io/v2/helmreleases"):
            return
        namespace = request.namespace or ""
        if request.action == kmock.action.DELETE:
            await self._stop_vcluster(namespace)
            return
        release = host.objects["helm.toolkit.fluxcd.io/v2/helmreleases", namespace, "vcluster"]
        self._provision_pool(host, namespace, dedicated="sync" in release.raw["spec"]["values"])
        if namespace not in self.vclusters:
            vcluster = _new_emulator(_vcluster_controllers())
            vcluster.namespaces["kube-system"] = {"metadata": {"name": "kube-system"}}
            vcluster.objects["apps/v1/deployments", "kube-system", "coredns"] = _coredns()
            await vcluster.__aenter__()
            # A bare aiohttp server: kmock.Server's DNS interceptors must exit in LIFO order,
            # and vClusters come and go in any order.
            server = RawTestServer(vcluster, host="127.0.0.1")
            await server.start_server()
            self.vclusters[namespace] = vcluster, server
            kubeconfig = {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "vc", "cluster": {"server": str(server.make_url(""))}}],
                "users": [{"name": "vc", "user": {"token": "vcluster-admin"}}],
                "contexts": [{"name": "vc", "context": {"cluster": "vc", "user": "vc"}}],
                "current-context": "vc",
            }
            host.objects["v1/secrets", namespace, "vc-vcluster"] = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "vc-vcluster", "namespace": namespace},
                "data": {"config": base64.b64encode(yaml.safe_dump(kubeconfig).encode()).decode()},
            }
        release = host.objects["helm.toolkit.fluxcd.io/v2/helmreleases", namespace, "vcluster"]
        generation = release.raw.get("metadata", {}).get("generation", 0) + 1
        ready = {
            "type": "Ready",
            "status": "True",
            "reason": "InstallSucceeded",
            "message": "Helm install succeeded for release vcluster",
            "observedGeneration": generation,
        }
        release.patch({"metadata": {"generation": generation}, "status": {"conditions": [ready]}})

    @staticmethod
    def _provision_pool(host: _Emulator, namespace: str, *, dedicated: bool) -> None:
        """The node-pool provisioner (outside the driver): labelled nodes for a dedicated plan."""
        wanted = {f"{namespace}-pool-{i + 1}" for i in range(POOL_NODES if dedicated else 0)}
        for node in host.live("v1/nodes"):
            name = node["metadata"]["name"]
            if node["metadata"]["labels"].get(POOL_LABEL) == namespace and name not in wanted:
                host.objects["v1/nodes", None, name].delete()
        existing = {n["metadata"]["name"] for n in host.live("v1/nodes")}
        for name in sorted(wanted - existing):
            host.objects["v1/nodes", None, name] = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": name, "labels": {POOL_LABEL: namespace}},
                "spec": {},
            }

    async def _stop_vcluster(self, namespace: str) -> None:
        if namespace in self.vclusters:
            vcluster, server = self.vclusters.pop(namespace)
            await server.close()
            await vcluster.__aexit__(None, None, None)
        key = kmock.resource("v1/secrets"), namespace, "vc-vcluster"
        host = self._host
        if host is not None:
            self._provision_pool(host, namespace, dedicated=False)
        if host is not None and key in host.objects and not host.objects[key].deleted:
            host.objects[key].delete()

    def vcluster(self, namespace: str) -> _Emulator:
        return self.vclusters[namespace][0]


def _client(url: str) -> ApiClient:
    configuration = Configuration()
    configuration.host = url
    return ApiClient(configuration)


@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    with FakeCluster() as running:
        yield running


@pytest.fixture
def kubernetes(cluster: FakeCluster) -> KubernetesDriver:
    return KubernetesDriver(_client(cluster.host_url), wait_seconds=5, poll_seconds=0.01)


class KubernetesSeeder:
    """Puts objects straight into a workspace's vCluster emulator (as tenants' tools would)."""

    def __init__(self, cluster: FakeCluster) -> None:
        self._cluster = cluster

    def _put(self, ref: NamespaceRef, resource: str, obj: dict[str, Any]) -> None:
        vcluster = self._cluster.vcluster(ref.workspace_ref.host_namespace)
        name = obj["metadata"]["name"]
        obj["metadata"]["namespace"] = ref.namespace

        def put() -> None:
            vcluster.objects[resource, ref.namespace, name] = obj

        self._cluster.call(put)

    def certificate(self, ref: NamespaceRef, name: str) -> None:
        expired = {
            "type": "Ready",
            "status": "False",
            "reason": "Expired",
            "message": "Certificate expired",
        }
        self._put(
            ref,
            "cert-manager.io/v1/certificates",
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": {"name": name, "generation": 1},
                "spec": {"secretName": name, "issuerRef": {"name": "letsencrypt"}},
                "status": {"conditions": [expired], "revision": 1},
            },
        )

    def network_policy(self, ref: NamespaceRef, name: str) -> None:
        self._put(
            ref,
            "networking.k8s.io/v1/networkpolicies",
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": name},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": []},
            },
        )


class TestKubernetesConformance(DriverConformance):
    @pytest.fixture
    def driver(self, kubernetes: KubernetesDriver) -> KubernetesDriver:
        return kubernetes

    @pytest.fixture
    def seeder(self, cluster: FakeCluster) -> ClusterSeeder:
        return KubernetesSeeder(cluster)


# -- what only the kubernetes driver promises ------------------------------------------------


def _host_object(cluster: FakeCluster, resource: str, namespace: str, name: str) -> dict[str, Any]:
    found = [
        o
        for o in cluster.call(lambda: cluster.host.live(resource, namespace))
        if o["metadata"]["name"] == name
    ]
    assert len(found) == 1, f"{resource} {namespace}/{name}"
    return found[0]


def test_workspace_objects_on_the_host(kubernetes: KubernetesDriver, cluster: FakeCluster) -> None:
    kubernetes.provision_workspace(ws(), DEDICATED)
    host_ns = ws().host_namespace
    namespace = cluster.call(lambda: cluster.host.namespaces[host_ns])
    assert namespace["metadata"]["labels"]["hexaops.io/plan"] == "dedicated"

    repository = _host_object(
        cluster, "source.toolkit.fluxcd.io/v1/helmrepositories", host_ns, "loft"
    )
    assert repository["spec"]["url"] == "https://charts.loft.sh"

    release = _host_object(cluster, "helm.toolkit.fluxcd.io/v2/helmreleases", host_ns, "vcluster")
    assert release["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
    chart = release["spec"]["chart"]["spec"]
    assert chart["chart"] == "vcluster"
    assert chart["sourceRef"] == {"kind": "HelmRepository", "name": "loft"}
    values = release["spec"]["values"]
    assert values["controlPlane"]["distro"]["k8s"]["version"] == "v1.34"
    scheduling = values["controlPlane"]["statefulSet"]["scheduling"]
    assert scheduling["nodeSelector"] == {"hexaops.io/node-pool": host_ns}
    assert scheduling["tolerations"][0]["value"] == host_ns
    assert values["sync"]["fromHost"]["nodes"]["selector"]["labels"] == {
        "hexaops.io/node-pool": host_ns
    }

    quota = _host_object(cluster, "v1/resourcequotas", host_ns, "workspace-quota")
    assert DEDICATED.node_pool is not None
    capacity = DEDICATED.node_pool.capacity()
    assert quota["spec"]["hard"] == {
        "requests.cpu": "16",
        "requests.memory": "64Gi",
        "pods": str(capacity.pods),
    }
    limits = _host_object(cluster, "v1/limitranges", host_ns, "workspace-defaults")
    assert limits["spec"]["limits"][0]["defaultRequest"] == {"cpu": "100m", "memory": "128Mi"}

    deny = _host_object(cluster, "networking.k8s.io/v1/networkpolicies", host_ns, "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = _host_object(cluster, "networking.k8s.io/v1/networkpolicies", host_ns, "allow-dns")
    assert {"protocol": "UDP", "port": 53} in dns["spec"]["egress"][0]["ports"]
    _host_object(cluster, "networking.k8s.io/v1/networkpolicies", host_ns, "allow-same-namespace")

    binding = _host_object(
        cluster, "rbac.authorization.k8s.io/v1/rolebindings", host_ns, "workspace-admins"
    )
    assert binding["roleRef"]["name"] == "workspace-admin"
    assert binding["subjects"][0] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Group",
        "name": "hexaops:acme:prod:admins",
    }


def test_shared_workspace_has_no_node_pool(
    kubernetes: KubernetesDriver, cluster: FakeCluster
) -> None:
    kubernetes.provision_workspace(ws(), SHARED)
    host_ns = ws().host_namespace
    release = _host_object(cluster, "helm.toolkit.fluxcd.io/v2/helmreleases", host_ns, "vcluster")
    assert "sync" not in release["spec"]["values"]
    assert "statefulSet" not in release["spec"]["values"]["controlPlane"]
    quota = _host_object(cluster, "v1/resourcequotas", host_ns, "workspace-quota")
    assert quota["spec"]["hard"]["pods"] == "200"


def test_reprovisioning_on_another_plan_replaces_the_values(
    kubernetes: KubernetesDriver, cluster: FakeCluster
) -> None:
    kubernetes.provision_workspace(ws(), DEDICATED)
    assert kubernetes.provision_workspace(ws(), SHARED).kubernetes_version == "1.33"
    host_ns = ws().host_namespace
    release = _host_object(cluster, "helm.toolkit.fluxcd.io/v2/helmreleases", host_ns, "vcluster")
    assert release["spec"]["values"] == kubernetes.helm_values(ws(), SHARED)


def _set_ready(cluster: FakeCluster, condition: dict[str, Any]) -> None:
    """What helm-controller reports, for the release's current generation."""
    key = ("helm.toolkit.fluxcd.io/v2/helmreleases", ws().host_namespace, "vcluster")

    def report() -> None:
        release = cluster.host.objects[key]
        current = {**condition, "observedGeneration": release.raw["metadata"]["generation"]}
        release.patch({"status": {"conditions": [current]}})

    cluster.call(report)


def test_workspace_status_follows_the_helmrelease(
    kubernetes: KubernetesDriver, cluster: FakeCluster
) -> None:
    kubernetes.provision_workspace(ws(), SHARED)
    _set_ready(
        cluster,
        {"type": "Ready", "status": "False", "reason": "Progressing", "message": "installing"},
    )
    observed = kubernetes.get_workspace(ws())
    assert observed is not None
    assert (observed.status, observed.message) == ("provisioning", "installing")

    failed = "install retries exhausted: image pull back-off"
    _set_ready(
        cluster,
        {"type": "Ready", "status": "False", "reason": "InstallFailed", "message": failed},
    )
    observed = kubernetes.get_workspace(ws())
    assert observed is not None
    assert (observed.status, observed.message) == ("failed", failed)


def test_restart_is_the_kubectl_rollout_restart(
    kubernetes: KubernetesDriver, cluster: FakeCluster
) -> None:
    kubernetes.provision_workspace(ws(), SHARED)
    kubernetes.create_namespace(ns(), QUOTA)
    kubernetes.apply_application(wl(), V1)
    kubernetes.restart_application(wl())
    vcluster = cluster.vcluster(ws().host_namespace)
    deployment = cluster.call(lambda: vcluster.live("apps/v1/deployments", "shop"))[0]
    assert A_RESTARTED_AT in deployment["spec"]["template"]["metadata"]["annotations"]
    assert deployment["metadata"]["annotations"]["hexaops.io/restart-generation"] == "1"
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"] == {"cpu": "100m", "memory": "128Mi"}


def test_functions_are_knative_services(kubernetes: KubernetesDriver, cluster: FakeCluster) -> None:
    kubernetes.provision_workspace(ws(), SHARED)
    kubernetes.create_namespace(ns(), QUOTA)
    kubernetes.apply_function(wl(name="resize"), FUNCTION)
    kubernetes.set_function_scaling(wl(name="resize"), 10, 5)
    vcluster = cluster.vcluster(ws().host_namespace)
    service = cluster.call(lambda: vcluster.live("serving.knative.dev/v1/services", "shop"))[0]
    template = service["spec"]["template"]
    assert template["spec"]["containerConcurrency"] == 10
    assert template["metadata"]["annotations"]["autoscaling.knative.dev/max-scale"] == "5"
    assert template["spec"]["containers"][0]["resources"]["limits"]["memory"] == "256Mi"


def test_project_quota_in_the_vcluster(kubernetes: KubernetesDriver, cluster: FakeCluster) -> None:
    kubernetes.provision_workspace(ws(), SHARED)
    kubernetes.create_namespace(ns(), Quota(cpu_millis=1_500, memory_bytes=3 * 2**29, pods=7))
    vcluster = cluster.vcluster(ws().host_namespace)
    quota = cluster.call(lambda: vcluster.live("v1/resourcequotas", "shop"))[0]
    assert quota["spec"]["hard"] == {
        "requests.cpu": "1500m",
        "requests.memory": "1536Mi",
        "pods": "7",
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (404, "does not exist"),
        (409, "conflicts with the current state"),
        (422, "rejected the object as invalid"),
        (403, "RBAC"),
        (500, "retry later"),
        (503, "retry later"),
    ],
)
def test_api_errors_become_actionable_driver_errors(status: int, expected: str) -> None:
    body = json.dumps({"kind": "Status", "code": status, "message": "the server says why"})
    error = api_error("Deployment checkout in namespace shop", ApiException(status, body=body))
    assert isinstance(error, DriverError)
    assert expected in error.message
    assert "Deployment checkout in namespace shop" in error.message
    assert "the server says why" in error.message
    assert f"HTTP {status}" in error.message


def test_server_errors_surface_as_driver_errors(
    kubernetes: KubernetesDriver, cluster: FakeCluster
) -> None:
    kubernetes.provision_workspace(ws(), SHARED)
    kubernetes.create_namespace(ns(), QUOTA)
    vcluster = cluster.vcluster(ws().host_namespace)
    invalid = kmock.KubernetesError(status=422, reason="Invalid", message="spec.replicas: bad")
    cluster.call(
        lambda: vcluster[kmock.action.CREATE, kmock.resource("apps/v1/deployments")] << invalid
    )
    with pytest.raises(DriverError, match=r"rejected the object as invalid.*spec\.replicas: bad"):
        kubernetes.apply_application(wl(), V1)


def test_unreachable_api_is_a_driver_error() -> None:
    configuration = Configuration(host="http://127.0.0.1:9", retries=0)  # nothing listens
    driver = KubernetesDriver(ApiClient(configuration), wait_seconds=1)
    with pytest.raises(DriverError, match="unreachable"):
        driver.get_workspace(ws())


def test_create_driver_reads_the_kubeconfig(cluster: FakeCluster, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "host", "cluster": {"server": cluster.host_url}}],
                "users": [{"name": "ops", "user": {"token": "t"}}],
                "contexts": [{"name": "k3s", "context": {"cluster": "host", "user": "ops"}}],
                "current-context": "k3s",
            }
        )
    )
    settings = Settings(driver="kubernetes", kubeconfig=kubeconfig, kube_context="k3s")
    engine = create_engine("sqlite://")
    driver = create_driver(settings, engine)
    assert isinstance(driver, KubernetesDriver)
    assert driver.provision_workspace(ws(), SHARED).status == "ready"


def test_a_bad_kubeconfig_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="HEXAOPS_KUBECONFIG="):
        host_client(str(tmp_path / "missing"))


def _host_pod(name: str, node: str, owner: str | None = None) -> dict[str, Any]:
    """A pod the vCluster syncer put on the host (or, with owner, e.g. a DaemonSet's)."""
    metadata: dict[str, Any] = {"name": name, "namespace": ws().host_namespace}
    if owner is not None:
        metadata["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": owner, "name": "agent", "uid": "u1"}
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": "busybox"}]},
        "status": {"phase": "Running"},
    }


def test_drain_is_kubectl_drain_on_the_host(
    kubernetes: KubernetesDriver, cluster: FakeCluster
) -> None:
    kubernetes.provision_workspace(ws(), DEDICATED)
    first, second = (n.name for n in kubernetes.list_pool_nodes(ws()))
    pods = {
        "checkout-x-1": _host_pod("checkout-x-1", first),
        "checkout-x-2": _host_pod("checkout-x-2", second),
        "agent-1": _host_pod("agent-1", first, owner="DaemonSet"),
    }

    def put() -> None:
        for name, pod in pods.items():
            cluster.host.objects["v1/pods", ws().host_namespace, name] = pod

    cluster.call(put)
    assert {n.name: n.workload_pods for n in kubernetes.list_pool_nodes(ws())} == {
        first: 1,
        second: 1,
    }

    assert kubernetes.drain_node(ws(), first) == 1
    left = {p["metadata"]["name"] for p in cluster.call(lambda: cluster.host.live("v1/pods"))}
    assert left == {"checkout-x-2", "agent-1"}, "evicted, DaemonSet pods stay (as kubectl drain)"
    node = cluster.call(lambda: cluster.host.objects["v1/nodes", None, first].raw)
    assert node["spec"]["unschedulable"] is True  # what `kubectl cordon` patches
    kubernetes.uncordon_node(ws(), first)
    node = cluster.call(lambda: cluster.host.objects["v1/nodes", None, first].raw)
    assert node["spec"]["unschedulable"] is False


def test_renew_sets_the_issuing_condition_as_cmctl(
    kubernetes: KubernetesDriver, cluster: FakeCluster
) -> None:
    kubernetes.provision_workspace(ws(), SHARED)
    kubernetes.create_namespace(ns(), QUOTA)
    KubernetesSeeder(cluster).certificate(ns(), "frontend-tls")
    vcluster = cluster.vcluster(ws().host_namespace)
    seen: list[dict[str, Any]] = []
    key = ("cert-manager.io/v1/certificates", "shop", "frontend-tls")

    def record(request: kmock.Request) -> None:
        seen.append({"subresource": request.subresource, "data": request.data})

    cluster.call(lambda: vcluster[kmock.action.UPDATE, kmock.resource(key[0])] >> record)
    renewed = kubernetes.renew_certificate(ns(), "frontend-tls")
    assert renewed.ready
    (patch,) = seen
    assert patch["subresource"] == "status"
    (issuing,) = [c for c in patch["data"]["status"]["conditions"] if c["type"] == "Issuing"]
    assert (issuing["status"], issuing["reason"]) == ("True", "ManuallyTriggered")


def test_restart_dns_is_a_rollout_restart_of_coredns(
    kubernetes: KubernetesDriver, cluster: FakeCluster
) -> None:
    kubernetes.provision_workspace(ws(), SHARED)
    kubernetes.restart_coredns(ws())
    vcluster = cluster.vcluster(ws().host_namespace)
    (coredns,) = cluster.call(lambda: vcluster.live("apps/v1/deployments", "kube-system"))
    assert A_RESTARTED_AT in coredns["spec"]["template"]["metadata"]["annotations"]
    assert coredns["metadata"]["annotations"]["hexaops.io/restart-generation"] == "1"


def test_pod_logs_are_the_vcluster_pod_log_tail(kubernetes: KubernetesDriver) -> None:
    kubernetes.provision_workspace(ws(), SHARED)
    kubernetes.create_namespace(ns(), QUOTA)
    app = kubernetes.apply_application(wl(), V1)
    pod = app.pods[0].name
    stub = _POD_LOG.splitlines()
    assert kubernetes.read_pod_logs(wl(), pod) == stub
    # The stub ignores tailLines, as a misbehaving server might: the driver still bounds it.
    assert kubernetes.read_pod_logs(wl(), pod, tail_lines=2) == stub[-2:]


def test_pods_read_as_kubectl_describe_shows_them() -> None:
    """Why a pod is not running comes from its container's waiting state (else the scheduler's
    condition), why it restarted from the container's last terminated state."""
    from kubernetes.client import (
        V1ContainerState,
        V1ContainerStateTerminated,
        V1ContainerStateWaiting,
        V1ContainerStatus,
        V1ObjectMeta,
        V1Pod,
        V1PodCondition,
        V1PodSpec,
        V1PodStatus,
    )

    from hexaops.platform.drivers.kubernetes.conversions import _observed_pod

    def container(waiting: str | None, terminated: str | None, restarts: int) -> V1ContainerStatus:
        return V1ContainerStatus(
            name="app",
            image="ghcr.io/acme/checkout:1.4.2",
            image_id="",
            ready=False,
            restart_count=restarts,
            state=V1ContainerState(
                waiting=V1ContainerStateWaiting(reason=waiting) if waiting else None
            ),
            last_state=V1ContainerState(
                terminated=V1ContainerStateTerminated(exit_code=137, reason=terminated)
                if terminated
                else None
            ),
        )

    oom = _observed_pod(
        V1Pod(
            metadata=V1ObjectMeta(name="checkout-a"),
            spec=V1PodSpec(containers=[], node_name="node-1"),
            status=V1PodStatus(
                phase="Running",
                conditions=[V1PodCondition(type="Ready", status="False")],
                container_statuses=[container("CrashLoopBackOff", "OOMKilled", 4)],
            ),
        )
    )
    assert (oom.phase, oom.ready, oom.restarts, oom.node) == ("Running", False, 4, "node-1")
    assert (oom.reason, oom.last_state) == ("CrashLoopBackOff", "OOMKilled")

    pending = _observed_pod(
        V1Pod(
            metadata=V1ObjectMeta(name="checkout-b"),
            spec=V1PodSpec(containers=[]),
            status=V1PodStatus(
                phase="Pending",
                conditions=[
                    V1PodCondition(type="PodScheduled", status="False", reason="Unschedulable")
                ],
            ),
        )
    )
    assert (pending.phase, pending.ready, pending.reason, pending.last_state) == (
        "Pending",
        False,
        "Unschedulable",
        "",
    )
