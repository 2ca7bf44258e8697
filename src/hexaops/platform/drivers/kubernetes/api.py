"""Calls to the Kubernetes API: errors mapped to DriverError, clients, and the typed APIs of
one API server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import urllib3
from kubernetes import config as kube_config
from kubernetes.client import (
    ApiClient,
    AppsV1Api,
    AutoscalingV2Api,
    Configuration,
    CoreV1Api,
    CustomObjectsApi,
    NetworkingV1Api,
)
from kubernetes.client.exceptions import ApiException

from hexaops.platform.errors import ConfigurationError, DriverError

MERGE_PATCH = "application/merge-patch+json"  # the client would otherwise pick json-patch

T = TypeVar("T")


# -- API calls and their errors ------------------------------------------------------------


def _status_message(exc: ApiException) -> str:
    """The `message` of the Kubernetes Status in the body, or the HTTP reason."""
    try:
        body = json.loads(exc.body or "")
    except ValueError:
        return str(exc.reason or "no details")
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return str(exc.reason or "no details")


def api_error(what: str, exc: ApiException) -> DriverError:
    """A DriverError that says what failed and what to do about it."""
    status, message = exc.status or 0, _status_message(exc)
    if status == 404:
        hint = "it does not exist (create the workspace/namespace/object first)"
    elif status == 409:
        hint = "it conflicts with the current state (read it again and retry)"
    elif status in (400, 422):
        hint = "the API server rejected the object as invalid (fix the spec)"
    elif status in (401, 403):
        hint = "hexaops' credentials may not do this (check its ServiceAccount's RBAC)"
    elif status == 429 or status >= 500:
        hint = "the API server failed or is overloaded (retry later; the write is idempotent)"
    else:
        hint = "unexpected API error"
    return DriverError(f"{what}: {hint} — HTTP {status}: {message}")


@contextmanager
def _api(what: str) -> Iterator[None]:
    """Translate client errors into DriverError; `what` names the object for the user."""
    try:
        yield
    except ApiException as exc:
        raise api_error(what, exc) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise DriverError(
            f"{what}: the Kubernetes API is unreachable ({exc}); check HEXAOPS_KUBECONFIG, "
            "HEXAOPS_KUBE_CONTEXT and the network"
        ) from exc


def _read(what: str, call: Callable[[], T]) -> T | None:
    """A read where 404 means "absent"."""
    with _api(what):
        try:
            return call()
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise


def _delete(what: str, call: Callable[[], object]) -> None:
    """A delete where 404 means "already gone"."""
    with _api(what):
        try:
            call()
        except ApiException as exc:
            if exc.status != 404:
                raise


def _upsert(what: str, create: Callable[[], object], patch: Callable[[], object]) -> None:
    """Create, or merge-patch what exists: the same call twice gives the same object."""
    with _api(what):
        try:
            create()
            return
        except ApiException as exc:
            if exc.status != 409:
                raise
        patch()


def _must(found: T | None, what: str) -> T:
    if found is None:
        raise DriverError(f"{what} disappeared while the change was being applied")
    return found


# -- clients -------------------------------------------------------------------------------


def client_from_kubeconfig(kubeconfig: dict[str, Any]) -> ApiClient:
    """An API client for a kubeconfig document (e.g. the one vCluster exports)."""
    try:
        return cast(
            ApiClient,
            kube_config.new_client_from_config_dict(  # type: ignore[no-untyped-call]
                config_dict=kubeconfig, persist_config=False
            ),
        )
    except kube_config.ConfigException as exc:
        raise DriverError(f"the vCluster kubeconfig is unusable: {exc}") from exc


def host_client(kubeconfig: str | None = None, context: str | None = None) -> ApiClient:
    """The host cluster's client: the kubeconfig file if named, else in-cluster, else ~/.kube."""
    try:
        if kubeconfig is None and context is None:
            try:
                configuration = Configuration()
                kube_config.load_incluster_config(  # type: ignore[no-untyped-call]
                    client_configuration=configuration
                )
                return ApiClient(configuration)
            except kube_config.ConfigException:
                pass  # not in a pod: fall back to the default kubeconfig
        return cast(
            ApiClient,
            kube_config.new_client_from_config(  # type: ignore[no-untyped-call]
                config_file=kubeconfig, context=context, persist_config=False
            ),
        )
    except (kube_config.ConfigException, OSError) as exc:
        if kubeconfig is not None:
            where = f"HEXAOPS_KUBECONFIG={kubeconfig}"
        else:
            where = "HEXAOPS_KUBECONFIG is unset, not in a pod, and ~/.kube/config"
        context_hint = f" (HEXAOPS_KUBE_CONTEXT={context})" if context else ""
        raise ConfigurationError(
            f"{where}{context_hint} gives no usable host cluster: {exc}"
        ) from exc


@dataclass(frozen=True)
class _Cluster:
    """The typed APIs of one API server (the host, or a workspace's vCluster)."""

    core: CoreV1Api
    apps: AppsV1Api
    autoscaling: AutoscalingV2Api
    custom: CustomObjectsApi
    networking: NetworkingV1Api

    @classmethod
    def of(cls, client: ApiClient) -> _Cluster:
        return cls(
            CoreV1Api(client),
            AppsV1Api(client),
            AutoscalingV2Api(client),
            CustomObjectsApi(client),
            NetworkingV1Api(client),
        )
