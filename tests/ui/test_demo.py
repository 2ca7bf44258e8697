"""`hexaops demo` — the README's main command — on a fresh HEXAOPS_HOME: prepared once as
JSON (--no-serve), then served: dev login, the live incident taken by the worker and approved
by its owner, the pending actions, the chat; Ctrl-C stops it cleanly."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

_SCRIPT = shutil.which("hexaops", path=os.path.dirname(sys.executable))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not within {timeout:g} s"
        time.sleep(0.3)


def test_demo_prepares_then_serves_everything_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    assert _SCRIPT is not None
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("HEXAOPS_") and k != "DATABASE_URL"
    }
    env |= {"HEXAOPS_HOME": str(tmp_path / "home"), "HEXAOPS_MODEL_PROVIDER": "offline"}
    once = subprocess.run(
        [_SCRIPT, "demo", "--no-serve", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert once.returncode == 0, once.stderr
    first: dict[str, Any] = json.loads(once.stdout)
    assert len(first["created"]) > 0
    orgs = {org["organization"]["slug"] for view in first["platform"].values() for org in view}
    assert orgs == {"acme", "globex"}
    assert first["incident"]["workspace"] == "acme-prod"
    assert first["sandbox"]["samples"] > 0
    assert [a["status"] for a in first["pending"]] == ["pending", "pending"]

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    out, err = tmp_path / "demo.out", tmp_path / "demo.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        served = subprocess.Popen(
            [_SCRIPT, "demo", "--port", str(port)], env=env, stdout=stdout, stderr=stderr
        )
    try:
        _wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, 150, "/healthz")
        banner = out.read_text()
        assert f"{base}/chat" in banner
        assert "password dev" in banner
        assert f"sandbox fault {first['incident']['fault_id']}" in banner  # the same incident

        def login(email: str) -> dict[str, str]:
            sent = httpx.post(f"{base}/api/auth/dev-token", json={"email": email})
            assert sent.status_code == 200, sent.text
            return {"Authorization": f"Bearer {sent.json()['access_token']}"}

        dev = login("dev@acme.example")
        assert httpx.get(f"{base}/api/me", headers=dev).json()["email"] == "dev@acme.example"
        owner = login("owner@acme.example")
        [incident] = _wait_for(
            lambda: httpx.get(f"{base}/api/incidents", headers=owner).json(), 60, "the incident"
        )
        assert (incident["workspace"], incident["severity"]) == ("acme-prod", "critical")
        assert "checkout" in incident["title"]
        pending = httpx.get(f"{base}/api/actions?status=pending", headers=owner).json()
        assert {a["id"] for a in pending} == {a["id"] for a in first["pending"]}  # not twice
        assert httpx.get(f"{base}/chat/").status_code == 200
        # The worker investigated it; without an automation policy the fix waits for the owner.
        one = f"{base}/api/incidents/{incident['id']}"
        _wait_for(
            lambda: httpx.get(one, headers=owner).json()["status"] == "awaiting_approval",
            90,
            "the plan waiting for approval",
        )
        approved = httpx.post(
            f"{one}/decision", json={"decision": "approve"}, headers=owner, timeout=120
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] in ("resolved", "escalated")
    finally:
        served.send_signal(signal.SIGINT)
        code = served.wait(timeout=60)
    assert code == 0, err.read_text()[-3000:]
    assert "Traceback" not in err.read_text()
    assert "hexaops demo stopped" in out.read_text()
