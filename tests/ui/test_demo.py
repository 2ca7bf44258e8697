"""`hexaops demo` — the README's main job — on a fresh HEXAOPS_HOME, run twice."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

_SCRIPT = shutil.which("hexaops", path=os.path.dirname(sys.executable))


def test_demo_seeds_once_and_keeps_its_incident_running(tmp_path: Path) -> None:
    assert _SCRIPT is not None
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("HEXAOPS_") and k != "DATABASE_URL"
    }
    env["HEXAOPS_HOME"] = str(tmp_path / "home")

    def demo() -> dict[str, Any]:
        assert _SCRIPT is not None
        run = subprocess.run(
            [_SCRIPT, "demo", "--json"], env=env, capture_output=True, text=True, timeout=180
        )
        assert run.returncode == 0, run.stderr
        result: dict[str, Any] = json.loads(run.stdout)
        return result

    first, second = demo(), demo()
    assert len(first["created"]) > 0
    assert second["created"] == []  # seeding is idempotent
    orgs = {org["organization"]["slug"] for view in first["platform"].values() for org in view}
    assert orgs == {"acme", "globex"}
    # One incident, still the same one, and the sandbox clock moved on by the demo's 30 minutes.
    assert first["incident"]["fault_id"] == second["incident"]["fault_id"]
    assert first["incident"]["workspace"] == "acme-prod"
    assert first["sandbox"]["samples"] > 0
    assert second["sandbox"]["now"] > first["sandbox"]["now"]
