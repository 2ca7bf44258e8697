"""The browser chat: Chainlit mounted into the hexaops FastAPI app (default at /chat).

    mount_chat(app, agents, platform, settings)

Sign-in (a bearer token, or the embedded demo's dev login), streaming answers, each tool call
as a step, approve/reject buttons for who may decide, metric charts, citations, incidents,
and sessions that continue where they stopped (`/chat?session=ID`). The Chainlit app itself
is `app.py`; it finds the services through `registry`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse

from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.settings import Settings
from hexaops.ui.chat.options import dev_login, option
from hexaops.ui.chat.provide import Provided, provided
from hexaops.ui.chat.registry import ChatServices, register

PACKAGE: Final = Path(__file__).parent
SESSION_COOKIE: Final = "hexaops_chat_session"
SESSION_COOKIE_SECONDS: Final = 300  # long enough to sign in after following a link

_mounted_path: str | None = None


def mount_chat(
    app: FastAPI,
    agents: Provided[AgentService] | None,
    platform: Provided[Platform] | None,
    settings: Settings,
    path: str = "/chat",
) -> None:
    """Serve the browser chat at `path` of `app`. `agents` and `platform` may be functions
    returning them, or None: those of the API's lifespan (`app.state.services`). Chainlit is
    one app per process: mounting again (e.g. a second FastAPI app in tests) serves the same
    chat with the new services."""
    global _mounted_path
    register(
        ChatServices(
            provided_agents=provided(app, agents, "agents"),
            provided_platform=provided(app, platform, "platform"),
            settings=settings,
            path=path,
        )
    )
    _add_session_link(app, path)
    if _mounted_path is not None:
        if path != _mounted_path:
            raise RuntimeError(f"the browser chat is already mounted at {_mounted_path}")
        from chainlit.server import app as chainlit_app

        app.mount(path, chainlit_app)
        return
    root = prepare_app_root(settings)
    loaded = sys.modules.get("chainlit.config")
    if loaded is not None and Path(getattr(loaded, "APP_ROOT", "")) != root:
        raise RuntimeError(
            "chainlit was imported before mount_chat: it would write into the working "
            "directory; mount the chat before anything imports chainlit"
        )
    os.environ["CHAINLIT_APP_ROOT"] = str(root)
    os.environ.setdefault("CHAINLIT_AUTH_SECRET", _auth_secret(root))
    from chainlit.utils import mount_chainlit

    mount_chainlit(app=app, target=str(PACKAGE / "app.py"), path=path)
    _mounted_path = path


def prepare_app_root(settings: Settings) -> Path:
    """Chainlit's working directory under HEXAOPS_HOME/chat: our config and welcome page,
    and the login page's text naming the dev login when it is on. Chainlit adds its own
    files (translations, uploads) there, never into the repository or the current directory."""
    root = (settings.home / "chat").resolve()
    (root / ".chainlit" / "translations").mkdir(parents=True, exist_ok=True)
    (root / ".chainlit" / "config.toml").write_text((PACKAGE / "config.toml").read_text())
    (root / "chainlit.md").write_text((PACKAGE / "chainlit.md").read_text())
    (root / ".chainlit" / "translations" / "en-US.json").write_text(
        json.dumps(_login_texts(settings), indent=2, ensure_ascii=False)
    )
    return root


def _login_texts(settings: Settings) -> dict[str, Any]:
    """Chainlit's English texts with a login title that says how to sign in here."""
    dev = dev_login(settings)
    custom = option(settings, "chat_dev_password") is not None
    password = "the dev password (HEXAOPS_CHAT_DEV_PASSWORD)" if custom else "password dev"
    spec = importlib.util.find_spec("chainlit")  # without importing it (see mount_chat)
    if spec is None or spec.origin is None:
        raise RuntimeError("chainlit is not installed (a dependency of hexaops)")
    texts: dict[str, Any] = json.loads(
        (Path(spec.origin).parent / "translations" / "en-US.json").read_text()
    )
    login = texts["auth"]["login"]
    if dev:
        login["title"] = f"Dev login: a demo user's email (e.g. owner@acme.example), {password}"
    else:
        login["title"] = "Sign in: your email, and an access token as the password"
    login["form"]["email"]["placeholder"] = "owner@acme.example"
    return texts


def _auth_secret(root: Path) -> str:
    """Chainlit signs its session cookies; keep one secret per home (created 0600)."""
    path = root / ".auth-secret"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _add_session_link(app: FastAPI, path: str) -> None:
    """`GET {path}?session=ID` (the link Slack and the CLI give): remember the session in a
    short-lived cookie and open the chat, which continues it after sign-in."""

    async def open_session(request: Request) -> RedirectResponse:
        response = RedirectResponse(f"{path}/", status_code=307)
        session = request.query_params.get("session", "")
        if session.isalnum() and len(session) <= 64:
            response.set_cookie(
                SESSION_COOKIE,
                session,
                max_age=SESSION_COOKIE_SECONDS,
                path=path,
                httponly=True,
                samesite="lax",
            )
        return response

    app.add_api_route(path, open_session, methods=["GET"], include_in_schema=False)
