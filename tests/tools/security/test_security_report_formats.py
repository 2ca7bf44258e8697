"""Reading trivy-operator VulnerabilityReports: their shape, and listing them from an API server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from kubernetes.client import ApiClient, Configuration, CustomObjectsApi

from hexaops.platform.errors import DriverError
from hexaops.tools.security.reports import (
    from_vulnerability_report,
    normalize_image,
    repository_of,
)
from hexaops.tools.security.sources import list_vulnerability_reports

REPORTS_PATH = "/apis/aquasecurity.github.io/v1alpha1/namespaces/shop/vulnerabilityreports"


def _report(server: str, repository: str, tag: str) -> dict[str, Any]:
    """A VulnerabilityReport as trivy-operator writes it (trimmed to what is read)."""
    return {
        "apiVersion": "aquasecurity.github.io/v1alpha1",
        "kind": "VulnerabilityReport",
        "metadata": {
            "name": "replicaset-checkout-5d9c7b8f6-app",
            "namespace": "shop",
            "labels": {
                "trivy-operator.resource.kind": "ReplicaSet",
                "trivy-operator.resource.name": "checkout-5d9c7b8f6",
                "trivy-operator.resource.namespace": "shop",
                "trivy-operator.container.name": "app",
            },
        },
        "report": {
            "registry": {"server": server},
            "artifact": {"repository": repository, "tag": tag},
            "vulnerabilities": [
                {
                    "vulnerabilityID": "CVE-2024-6387",
                    "resource": "openssh-server",
                    "installedVersion": "1:9.6p1-3",
                    "fixedVersion": "1:9.6p1-3ubuntu13.3",
                    "severity": "CRITICAL",
                    "title": "openssh: regreSSHion",
                    "score": 8.1,
                },
                {"vulnerabilityID": "CVE-2024-0001", "resource": "zlib", "severity": "weird"},
            ],
        },
    }


def test_a_vulnerability_report_becomes_findings_about_its_image() -> None:
    found = from_vulnerability_report(_report("ghcr.io", "acme/checkout", "1.4.2"))
    assert [(v.image, v.id, v.package, v.severity, v.score) for v in found] == [
        ("ghcr.io/acme/checkout:1.4.2", "CVE-2024-6387", "openssh-server", "CRITICAL", 8.1),
        ("ghcr.io/acme/checkout:1.4.2", "CVE-2024-0001", "zlib", "UNKNOWN", None),
    ]
    assert found[0].fixed == "1:9.6p1-3ubuntu13.3"
    assert found[1].fixed == ""
    assert found[0].source == "VulnerabilityReport shop/replicaset-checkout-5d9c7b8f6-app"
    hub = from_vulnerability_report(_report("index.docker.io", "library/nginx", "1.25"))
    assert hub[0].image == "nginx:1.25"
    assert from_vulnerability_report({"report": {"artifact": {}}}) == []


def test_image_references_normalize_for_matching() -> None:
    assert normalize_image("docker.io/library/nginx") == "nginx:latest"
    assert normalize_image("nginx:1.25@sha256:" + "a" * 64) == "nginx:1.25"
    assert normalize_image("registry.local:5000/team/app") == "registry.local:5000/team/app:latest"
    assert repository_of("registry.local:5000/team/app:2.0") == "registry.local:5000/team/app"
    assert repository_of("ghcr.io/acme/checkout:1.4.2") == "ghcr.io/acme/checkout"


class _ApiServer(BaseHTTPRequestHandler):
    """Answers the VulnerabilityReport list of namespace shop (404 when the CRD is missing)."""

    crd_installed = True

    def do_GET(self) -> None:
        body: dict[str, Any]
        if self.path.split("?")[0] == REPORTS_PATH and self.crd_installed:
            body = {
                "apiVersion": "aquasecurity.github.io/v1alpha1",
                "kind": "VulnerabilityReportList",
                "items": [_report("ghcr.io", "acme/checkout", "1.4.2")],
            }
            status = 200
        else:
            body = {"kind": "Status", "code": 404, "reason": "NotFound", "message": "not found"}
            status = 404
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def custom_objects() -> Iterator[CustomObjectsApi]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ApiServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = Configuration(host=f"http://127.0.0.1:{server.server_address[1]}")
    with ApiClient(config) as client:
        yield CustomObjectsApi(client)
    server.shutdown()
    server.server_close()
    _ApiServer.crd_installed = True


def test_reports_are_listed_from_the_api_server(custom_objects: CustomObjectsApi) -> None:
    [report] = list_vulnerability_reports(custom_objects, "shop", timeout=5)
    assert report["metadata"]["labels"]["trivy-operator.resource.name"] == "checkout-5d9c7b8f6"
    assert from_vulnerability_report(report)[0].image == "ghcr.io/acme/checkout:1.4.2"


def test_a_cluster_without_trivy_operator_says_what_to_install(
    custom_objects: CustomObjectsApi,
) -> None:
    _ApiServer.crd_installed = False
    with pytest.raises(DriverError, match="install trivy-operator"):
        list_vulnerability_reports(custom_objects, "shop", timeout=5)
