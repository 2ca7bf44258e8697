"""`hexaops incidents …` and `hexaops policies …` run as users run them (subprocesses on a
fresh seeded database and their own HEXAOPS_HOME, whose embedded chDB gets the telemetry)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pg_support import fresh_database

_SCRIPT = shutil.which("hexaops", path=os.path.dirname(sys.executable))
OWNER, DEV = "owner@acme.example", "dev@acme.example"


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, self.stderr
        return json.loads(self.stdout)

    def error(self) -> str:
        assert self.code == 1, (self.code, self.stdout, self.stderr)
        assert "Traceback" not in self.stderr
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("error: "), self.stderr
        return lines[0]


@pytest.fixture
def hexaops(pg_server: str, templates: dict[str, str], tmp_path: Path) -> Callable[..., Run]:
    assert _SCRIPT is not None
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("HEXAOPS_") and k != "DATABASE_URL"
    }
    env |= {
        "DATABASE_URL": fresh_database(pg_server, templates["seeded"]),
        "HEXAOPS_HOME": str(tmp_path / "home"),
        "HEXAOPS_MODEL_PROVIDER": "offline",
    }

    def run(*args: str) -> Run:
        assert _SCRIPT is not None
        proc = subprocess.run(
            [_SCRIPT, *args], env=env, capture_output=True, text=True, timeout=300
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run


def test_policy_fault_alert_remediation_and_postmortem(
    hexaops: Callable[..., Run], tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "name: restarts\nrules:\n  - operation: application.restart\n    max_per_window: 1\n"
    )
    assert (
        "restarts stored"
        in hexaops("policies", "set", "--org", "acme", "--file", str(policy), "--as", OWNER).stdout
    )
    assert (
        hexaops("policies", "show", "--org", "acme", "--as", DEV, "--json").json()["name"]
        == "restarts"
    )
    assert (
        "needs owner or admin"
        in hexaops("policies", "set", "--org", "acme", "--file", str(policy), "--as", DEV).error()
    )

    fault = hexaops(
        "sandbox",
        "inject",
        "slow_dependency",
        "-w",
        "acme-prod",
        "--target",
        "shop/payments",
        "--as",
        OWNER,
        "--json",
    ).json()
    hexaops("sandbox", "advance", "--minutes", "5", "--json").json()
    triggered = hexaops(
        "incidents", "trigger", "--from-fault", str(fault["fault_id"]), "--as", OWNER, "--json"
    ).json()
    (alert,) = triggered["alerts"]
    assert (alert["alertname"], alert["outcome"]) == ("HighLatency", "opened")
    (run,) = triggered["incidents"]
    assert run["status"] == "resolved"
    incident = run["incident_id"]

    listed = hexaops("incidents", "list", "--as", DEV, "--json").json()
    assert [i["id"] for i in listed] == [incident]
    shown = hexaops("incidents", "show", str(incident), "--as", DEV, "--json").json()
    assert shown["hypotheses"][0]["cause"] == "slow_dependency"
    assert shown["plan"][0]["operation"] == "application.restart"
    assert shown["plan"][0]["policy"]["covered"] is True
    text = hexaops("incidents", "postmortem", str(incident), "--as", DEV).stdout
    assert text.startswith(f"# Incident {incident}:")
    assert "application.restart" in text

    # Empty input and alerts for workloads that do not exist: clear records, no incident.
    assert "alert 0" in hexaops("incidents", "trigger", "--alert-file", "-", "--as", OWNER).error()
    alerts = tmp_path / "alerts.json"
    alerts.write_text(
        json.dumps(
            {
                "alerts": [
                    {
                        "labels": {
                            "alertname": "X",
                            "org": "acme",
                            "workspace": "acme-prod",
                            "project": "shop",
                            "application": "ghost",
                        },
                        "startsAt": "2026-01-05T00:00:00Z",
                    }
                ]
            }
        )
    )
    rejected = hexaops(
        "incidents", "trigger", "--alert-file", str(alerts), "--as", OWNER, "--json"
    ).json()
    assert rejected["alerts"][0]["outcome"] == "rejected"
    assert "application 'ghost' not found" in rejected["alerts"][0]["note"]


def test_bad_input_is_one_error_line(hexaops: Callable[..., Run], tmp_path: Path) -> None:
    assert hexaops("incidents", "trigger", "--as", OWNER).code == 2
    assert "not found" in hexaops("incidents", "show", "999", "--as", OWNER).error()
    bad = tmp_path / "bad.json"
    bad.write_text('{"alerts": [{"labels": {}}]}')
    assert (
        "startsAt"
        in hexaops("incidents", "trigger", "--alert-file", str(bad), "--as", OWNER).error()
    )
    other = tmp_path / "other.json"
    other.write_text(
        json.dumps(
            [
                {
                    "labels": {"alertname": "X", "org": "globex", "workspace": "globex-prod"},
                    "startsAt": "2026-01-05T00:00:00Z",
                }
            ]
        )
    )
    assert (
        "organization 'globex' not found"
        in hexaops("incidents", "trigger", "--alert-file", str(other), "--as", OWNER).error()
    )
    assert "not found" in hexaops("incidents", "approve", "1", "--as", OWNER).error()
    assert (
        "never pre-approve deletes"
        in hexaops(
            "policies",
            "set",
            "--org",
            "acme",
            "--file",
            str(_write(tmp_path, "rules: [{operation: application.delete}]\nname: x\n")),
            "--as",
            OWNER,
        ).error()
    )


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path
