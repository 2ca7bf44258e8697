"""Two `hexaops` processes starting at once on a fresh HEXAOPS_HOME, with no DATABASE_URL.

Both must start (or join) the same embedded PostgreSQL, migrate it once, and seed it once:
the embedded server start is guarded by a lock, migrations by an advisory lock, seeding by
idempotency keys.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

_SCRIPT = shutil.which("hexaops", path=os.path.dirname(sys.executable))


def test_two_processes_share_one_embedded_database(tmp_path: Path) -> None:
    assert _SCRIPT is not None
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("HEXAOPS_") and k != "DATABASE_URL"
    }
    env["HEXAOPS_HOME"] = str(tmp_path / "home")

    def seed() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [_SCRIPT, "platform", "seed", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: seed(), range(2)))
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert "Traceback" not in run.stderr
    reports = [json.loads(run.stdout) for run in runs]
    # Every demo action was created by exactly one of the two processes.
    created = [
        line for r in reports for line in r["created"] if line.startswith("workspace.create")
    ]
    assert sorted(created) == [
        "workspace.create acme/acme-prod",
        "workspace.create acme/acme-staging",
        "workspace.create globex/globex-prod",
    ]
    assert (tmp_path / "home" / "postgres" / "PG_VERSION").exists()

    listing = subprocess.run(
        [_SCRIPT, "platform", "workspace", "list", "--as", "owner@acme.example", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listing.returncode == 0, listing.stderr
    assert [w["name"] for w in json.loads(listing.stdout)] == ["acme-prod", "acme-staging"]
