"""`hexaops sandbox …` run as a user runs it: catalog, inject, advance, status, truth, export.

Each test gets a fresh seeded database (DATABASE_URL) and its own HEXAOPS_HOME, whose embedded
chDB receives the telemetry (a subprocess has its own chDB path, so no clash with the tests').
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pg_support import fresh_database

_SCRIPT = shutil.which("hexaops", path=os.path.dirname(sys.executable))
OWNER = "owner@acme.example"


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, self.stderr
        return json.loads(self.stdout)


@pytest.fixture
def sandbox(pg_server: str, templates: dict[str, str], tmp_path: Path) -> Any:
    assert _SCRIPT is not None
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("HEXAOPS_") and k != "DATABASE_URL"
    }
    env |= {
        "DATABASE_URL": fresh_database(pg_server, templates["seeded"]),
        "HEXAOPS_HOME": str(tmp_path / "home"),
    }

    def run(*args: str) -> Run:
        assert _SCRIPT is not None
        proc = subprocess.run(
            [_SCRIPT, "sandbox", *args], env=env, capture_output=True, text=True, timeout=120
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run


def _error_line(run: Run) -> str:
    assert run.code == 1, run
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_catalog_inject_advance_truth_and_export(sandbox: Any, tmp_path: Path) -> None:
    catalog = sandbox("faults", "--json").json()
    assert len(catalog) >= 15
    assert {"oom_memory_leak", "crashloop_bad_config", "dns_failure"} <= {
        k["kind"] for k in catalog
    }

    injected = sandbox(
        "inject",
        "oom_memory_leak",
        "-w",
        "acme-staging",
        "--target",
        "checkout",
        "--as",
        OWNER,
        "--json",
    ).json()
    fault_id = injected["fault_id"]

    report = sandbox("advance", "--minutes", "20", "--json").json()
    assert report["ticks"] == 80  # 15 s resolution
    assert report["samples"] > 0
    assert fault_id in report["activated"]

    status = sandbox("status", "-w", "acme-staging", "--as", OWNER, "--json").json()
    assert "checkout" in json.dumps(status)

    truth = sandbox("truth", str(fault_id), "--as", OWNER, "--json").json()
    assert truth["kind"] == "oom_memory_leak"
    assert truth["objects_at_fault"][0]["name"] == "checkout"
    assert truth["mitigations"]

    exported = tmp_path / "sandbox.om"
    stats = sandbox("export-openmetrics", str(exported), "--hours", "0.25", "--json").json()
    assert stats["samples"] > 0
    text = exported.read_text()
    assert "# TYPE container_memory_working_set_bytes gauge" in text
    assert text.rstrip().endswith("# EOF")


def test_bad_input_is_refused_with_one_line(sandbox: Any) -> None:
    unknown = _error_line(
        sandbox(
            "inject", "meteor_strike", "-w", "acme-staging", "--target", "checkout", "--as", OWNER
        )
    )
    assert "unknown fault kind" in unknown
    other_org = _error_line(
        sandbox("inject", "dns_failure", "-w", "globex-prod", "--target", "api", "--as", OWNER)
    )
    assert "not found" in other_org
    developer = _error_line(
        sandbox(
            "inject",
            "dns_failure",
            "-w",
            "acme-staging",
            "--target",
            "checkout",
            "--as",
            "dev@acme.example",
        )
    )
    assert "needs admin or owner" in developer
    negative = _error_line(
        sandbox(
            "inject",
            "dns_failure",
            "-w",
            "acme-staging",
            "--target",
            "checkout",
            "--at",
            "-5",
            "--as",
            OWNER,
        )
    )
    assert "non-negative" in negative
    missing = _error_line(
        sandbox(
            "inject", "oom_memory_leak", "-w", "acme-staging", "--target", "nope", "--as", OWNER
        )
    )
    assert "nope" in missing
    assert _error_line(sandbox("advance", "--minutes", "-1"))
    # Nothing was scheduled by any of the refused requests: truth of fault 1 does not exist.
    assert "does not exist" in _error_line(sandbox("truth", "1", "--as", OWNER))
    # Another organization's fault is invisible, not forbidden.
    fault = sandbox(
        "inject",
        "oom_memory_leak",
        "-w",
        "acme-staging",
        "--target",
        "checkout",
        "--as",
        OWNER,
        "--json",
    ).json()["fault_id"]
    assert "does not exist" in _error_line(
        sandbox("truth", str(fault), "--as", "owner@globex.example")
    )
