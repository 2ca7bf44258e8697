"""The Slack bot on the hexaops FastAPI app: `mount_slack(app, agents, platform, settings)`
adds `POST /slack/events` (Events API and interactivity; Bolt verifies Slack's signature and
timestamp, so forged or stale requests get 401 and nothing runs)."""

from __future__ import annotations

import asyncio
import json
from typing import Final
from urllib.parse import parse_qsl

from fastapi import FastAPI
from slack_bolt import BoltRequest
from slack_bolt.adapter.starlette.handler import to_starlette_response
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.settings import Settings
from hexaops.ui.chat.provide import Provided, provided
from hexaops.ui.slack.bot import SlackBot

MAX_BODY_BYTES: Final = 1_000_000  # Slack's payloads are a few KB

__all__ = ["SlackBot", "mount_slack"]


def malformed(body: str, content_type: str) -> str | None:
    """Why Bolt could not parse `body` (it would fail with a 500), or None. As Bolt reads it:
    JSON (Events API) or a form whose `payload` is JSON (interactivity), an object each."""
    try:
        if content_type == "application/json" or body.startswith("{"):
            document = json.loads(body or "{}")
        elif "payload" in body:
            document = json.loads(
                dict(parse_qsl(body, keep_blank_values=True)).get("payload", "{}")
            )
        else:
            return None  # a plain form (slash commands, ssl_check): Bolt reads it as is
    except ValueError:
        return "the request body is not valid JSON"
    return None if isinstance(document, dict) else "the request body must be a JSON object"


def mount_slack(
    app: FastAPI,
    agents: Provided[AgentService] | None,
    platform: Provided[Platform] | None,
    settings: Settings,
    *,
    path: str = "/slack/events",
    chat_path: str = "/chat",
    bot: SlackBot | None = None,
) -> SlackBot:
    """Serve the Slack bot at `path`. `agents` and `platform` may be functions returning
    them, or None: those of the API's lifespan (`app.state.services`). Raises
    ConfigurationError without the Slack settings (token, signing secret)."""
    bot = bot or SlackBot(
        provided(app, agents, "agents"),
        provided(app, platform, "platform"),
        settings,
        chat_path=chat_path,
    )

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return PlainTextResponse("the request body is too large", status_code=413)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return PlainTextResponse("the request body is not UTF-8", status_code=400)
        problem = malformed(text, request.headers.get("content-type", ""))
        if problem is not None:
            return PlainTextResponse(problem, status_code=400)
        bolt_request = BoltRequest(
            body=text,
            query=dict(request.query_params),
            headers={k: [v] for k, v in request.headers.items()},
        )
        # Bolt is synchronous (signature check, then ack; listeners go to its thread pool).
        bolt_response = await asyncio.to_thread(bot.app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    app.add_api_route(path, slack_events, methods=["POST"], include_in_schema=False)
    return bot
