"""A real Prometheus for tests: backfill an OpenMetrics file with promtool, serve it, query it.

Debian's prometheus and promtool are installed by scripts/test.sh; a machine without them fails
these tests with that hint rather than skipping them.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def backfilled_prometheus(series: Path, workdir: Path) -> Iterator[str]:
    """Backfill `series` (OpenMetrics) into a new TSDB and serve it; yields the base URL."""
    for tool in ("promtool", "prometheus"):
        assert shutil.which(tool), (
            f"{tool} is not installed: run scripts/test.sh, which installs it"
        )
    data = workdir / "tsdb"
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(series), str(data)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    config = workdir / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 15s\n")
    url = f"http://127.0.0.1:{_free_port()}"
    log = workdir / "prometheus.log"
    proc = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address={url.removeprefix('http://')}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:  # not listening yet, or 503 while starting
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("prometheus did not start: " + log.read_text()) from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def api(url: str, path: str, **params: str) -> list[dict[str, Any]]:
    """`/api/v1/<path>` of Prometheus; the result list of a successful response."""
    query = urllib.parse.urlencode(params)
    with urllib.request.urlopen(f"{url}/api/v1/{path}?{query}", timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result
