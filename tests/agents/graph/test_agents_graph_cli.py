"""`hexaops ask` in a real process: a developer's write waits, the owner approves it from
their own shell (offline planner, JSON events: `--stream-json`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pg_support import fresh_database


def test_ask_streams_then_an_owner_approves_from_another_shell(
    pg_server: str, templates: dict[str, str], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEXAOPS_")}
    env |= {
        "DATABASE_URL": fresh_database(pg_server, templates["seeded"]),
        "HEXAOPS_HOME": str(tmp_path),
        "HEXAOPS_MODEL_PROVIDER": "offline",
    }

    def ask(*args: str) -> tuple[int, list[dict[str, Any]], str]:
        done = subprocess.run(
            [sys.executable, "-m", "hexaops.ui.cli.ask", *args, "--stream-json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], done.stderr

    code, events, err = ask(
        "scale checkout in acme-staging/shop to 3 replicas", "--as", "dev@acme.example"
    )
    assert code == 0, err
    assert events[0] == {"type": "routed", "specialist": "scaling"}
    started = [e["tool"] for e in events if e["type"] == "tool_started"]
    assert started[-1] == "platform_application_scale"
    waiting = events[-1]
    assert waiting["type"] == "approval_requested", events
    assert waiting["request"]["action"] == "application.scale"
    session = waiting["session_id"]

    code, events, err = ask("--session", session, "--approve", "--as", "owner@acme.example")
    assert code == 0, err
    finished = [e for e in events if e["type"] == "tool_finished"]
    assert finished[0]["tool"] == "platform_application_scale"
    assert "done" in finished[0]["summary"]
    assert events[-1]["type"] == "answer"

    code, _, err = ask("--session", session, "--approve", "--reject", "--as", "owner@acme.example")
    assert code == 2
