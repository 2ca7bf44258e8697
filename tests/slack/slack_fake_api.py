"""A local stand-in for the Slack Web API (a real HTTP server): records every call the bot
makes (chat.postMessage, chat.update, chat.postEphemeral, …) and answers like Slack."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse

Call = tuple[str, dict[str, Any]]


class FakeSlack:
    def __init__(self, emails: dict[str, str]) -> None:
        self.emails = emails  # Slack user id → profile email
        self.calls: list[Call] = []
        self._ts = itertools.count(1)
        self._changed = threading.Condition()
        self.app = FastAPI()
        self.app.add_api_route("/api/{method}", self._handle, methods=["POST"])

    async def _handle(self, method: str, request: Request) -> JSONResponse:
        raw = (await request.body()).decode()
        if request.headers.get("content-type", "").startswith("application/json"):
            params: dict[str, Any] = json.loads(raw or "{}")
        else:
            params = dict(parse_qsl(raw))
        if isinstance(params.get("blocks"), str):
            params["blocks"] = json.loads(params["blocks"])
        answer = self._answer(method, params)
        if method == "chat.postMessage":
            params["ts"] = answer["ts"]  # recorded with the ts Slack gave the message
        with self._changed:
            self.calls.append((method, params))
            self._changed.notify_all()
        return JSONResponse(answer)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}
        if method == "users.info":
            email = self.emails.get(str(params.get("user")))
            return {"ok": True, "user": {"id": params.get("user"), "profile": {"email": email}}}
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") or f"1700000100.{next(self._ts):06d}"
            return {"ok": True, "channel": params.get("channel"), "ts": ts}
        return {"ok": True}

    def of(self, method: str) -> list[dict[str, Any]]:
        with self._changed:
            return [p for m, p in self.calls if m == method]

    def wait_for(
        self, method: str, check: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        """The first call of `method` passing `check`, waiting for it to come."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [p for m, p in self.calls if m == method and check(p)]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {method} call as expected; calls: {self.calls}")
                self._changed.wait(left)


@contextmanager
def fake_slack(emails: dict[str, str]) -> Iterator[tuple[FakeSlack, str]]:
    """The fake and its Web API base URL (for WebClient's base_url)."""
    slack = FakeSlack(emails)
    with serving(slack.app) as base:
        yield slack, f"{base}/api/"


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn on a free local port, in a thread."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(base + "/docs", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
