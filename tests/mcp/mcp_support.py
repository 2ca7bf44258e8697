"""Helpers of the MCP tests: an MCP server in a uvicorn thread, result decoding."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette

from mcp import types

DEV = "dev@acme.example"
OWNER = "owner@acme.example"
# Scaling to zero is a risky change: it waits for an owner or admin.
SCALE_CHECKOUT = {"workspace": "acme-prod", "project": "shop", "name": "checkout", "replicas": 0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    """Run `app` on a free port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the MCP test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def body(result: types.CallToolResult) -> dict[str, Any]:
    """The structured tool result (the text content carries the same JSON)."""
    assert result.structuredContent is not None
    text = result.content[0]
    assert isinstance(text, types.TextContent)
    return result.structuredContent
