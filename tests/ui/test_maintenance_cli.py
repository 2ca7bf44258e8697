"""`hexaops platform node|pod|certificate|network-policy|dns …` submit audited actions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pg_support import fresh_database

_SCRIPT = shutil.which("hexaops", path=os.path.dirname(sys.executable))
OWNER = "owner@acme.example"


def test_maintenance_commands(pg_server: str, templates: dict[str, str], tmp_path: Path) -> None:
    assert _SCRIPT is not None
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("HEXAOPS_") and k != "DATABASE_URL"
    }
    env |= {
        "DATABASE_URL": fresh_database(pg_server, templates["seeded"]),
        "HEXAOPS_HOME": str(tmp_path),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        assert _SCRIPT is not None
        return subprocess.run(
            [_SCRIPT, "platform", *args], env=env, capture_output=True, text=True, timeout=120
        )

    shared = run("node", "cordon", "-w", "acme-staging", "--node", "k3s-shared-1", "--as", OWNER)
    assert shared.returncode == 1
    assert "shared plan" in shared.stderr
    assert "Traceback" not in shared.stderr

    dns = run("dns", "restart", "-w", "acme-staging", "--as", OWNER, "--json")
    assert dns.returncode == 0, dns.stderr
    action = json.loads(dns.stdout)
    assert (action["operation"], action["status"]) == ("workspace.restart_dns", "succeeded")

    pods = run("app", "list", "-w", "acme-staging", "-p", "shop", "--as", OWNER, "--json")
    assert pods.returncode == 0, pods.stderr
    gone = run(
        "pod",
        "delete",
        "-w",
        "acme-staging",
        "-p",
        "shop",
        "--app",
        "checkout",
        "--pod",
        "nope",
        "--as",
        "viewer@acme.example",
    )
    assert gone.returncode == 1
    assert gone.stderr.startswith("error: ")
