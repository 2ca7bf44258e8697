"""`hexaops tool`: a person runs exactly what an agent would, with the same result shape."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pg_support import fresh_database

_SCRIPT = shutil.which("hexaops", path=os.path.dirname(sys.executable))

Runner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def hexaops(pg_server: str, templates: dict[str, str], tmp_path: Path) -> Runner:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEXAOPS_")}
    env |= {
        "DATABASE_URL": fresh_database(pg_server, templates["seeded"]),
        "HEXAOPS_HOME": str(tmp_path),
    }

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        assert _SCRIPT is not None
        return subprocess.run(
            [_SCRIPT, "tool", *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


def test_list_describes_every_tool_with_its_schema(hexaops: Runner) -> None:
    listed = hexaops("list", "--json")
    assert listed.returncode == 0, listed.stderr
    tools = {t["name"]: t for t in json.loads(listed.stdout)}
    scale = tools["platform_application_scale"]
    assert scale["writes"] is True
    assert "replicas" in scale["input_schema"]["properties"]
    assert tools["platform_workspaces"]["writes"] is False
    only = json.loads(hexaops("list", "--toolset", "platform", "--json").stdout)
    assert {t["toolset"] for t in only} == {"platform"}
    assert hexaops("list", "--toolset", "nope").returncode == 2


def test_run_as_a_user_and_errors_as_exit_codes(hexaops: Runner, tmp_path: Path) -> None:
    ok = hexaops(
        "run",
        "platform_projects",
        "--as",
        "dev@acme.example",
        "--args",
        '{"workspace": "acme-prod"}',
        "--json",
    )
    assert ok.returncode == 0, ok.stderr
    result = json.loads(ok.stdout)
    assert result["status"] == "ok"
    assert result["data"][0]["name"] == "shop"
    assert result["tokens"] > 0

    args_file = tmp_path / "args.json"
    args_file.write_text('{"workspace": "globex-prod"}')
    hidden = hexaops(
        "run", "platform_projects", "--as", "dev@acme.example", "--args", f"@{args_file}", "--json"
    )
    assert hidden.returncode == 1
    assert json.loads(hidden.stdout)["error_code"] == "not_found"

    plain = hexaops(
        "run",
        "platform_projects",
        "--as",
        "dev@acme.example",
        "--args",
        "-",
        stdin='{"workspace": "globex-prod"}',
    )
    assert plain.returncode == 1
    assert plain.stderr.strip() == "error: workspace 'globex-prod' not found"
    assert "Traceback" not in plain.stderr

    broken = hexaops("run", "platform_projects", "--as", "dev@acme.example", "--args", "{workspace")
    assert broken.returncode == 2
    assert "not valid JSON" in broken.stderr
