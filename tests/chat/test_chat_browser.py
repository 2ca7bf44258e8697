"""The browser chat in a real browser (Debian's chromium driven by Playwright): sign in with
the dev login, ask, see the tool steps, and have an owner approve a developer's delete from
the session's link — the platform runs it, and the chat shows the result."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chat_server import serving
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect, sync_playwright
from starlette.testclient import TestClient

from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.settings import Settings
from hexaops.ui.chat import mount_chat

CHROMIUM = Path("/usr/bin/chromium")
expect.set_options(timeout=20_000)  # a turn on a busy 2-core machine


@pytest.fixture
def chat_url(platform: Platform, store: ClickHouseStore, chdb_home: Path) -> Iterator[str]:
    settings = Settings(home=chdb_home, model_provider="offline")
    app = FastAPI()
    with AgentService(settings, platform, resources={"telemetry": store}) as agents:
        mount_chat(app, agents, platform, settings)
        with serving(app, "/chat/") as base:
            yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "apt-get install -y chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


def sign_in(browser: Browser, url: str, email: str) -> Page:
    page = browser.new_page()
    page.set_default_timeout(20_000)
    page.goto(url)
    expect(page.get_by_text("Dev login")).to_be_visible()
    page.locator("#email").fill(email)
    page.locator("#password").fill("dev")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text(f"Signed in as {email}")).to_be_visible()  # connected
    return page


def ask(page: Page, text: str) -> None:
    page.locator("#chat-input").fill(text)
    page.keyboard.press("Enter")


def test_an_owner_approves_a_developers_delete_from_the_session_link(
    chat_url: str, browser: Browser, platform: Platform, owner: Principal
) -> None:
    dev = sign_in(browser, f"{chat_url}/chat/", "dev@acme.example")
    ask(dev, "delete the application catalog in acme-staging")
    expect(dev.get_by_text("platform_application_delete").first).to_be_visible()
    expect(dev.get_by_text("Approval needed", exact=False)).to_be_visible()
    expect(dev.get_by_text("It waits for an owner or admin of acme")).to_be_visible()
    assert dev.get_by_role("button", name="Approve").count() == 0  # a developer may not decide
    (action,) = [a for a in platform.list_actions(owner) if a.status == "pending"]
    assert action.id is not None
    ask(dev, "/session")
    expect(dev.get_by_text(re.compile(r"^Session [0-9a-f]{32}$"))).to_be_visible()
    session = re.search(r"Session ([0-9a-f]{32})", dev.locator("body").inner_text())
    assert session is not None

    boss = sign_in(browser, f"{chat_url}/chat?session={session[1]}", "owner@acme.example")
    expect(boss.get_by_text(f"Continuing session {session[1]}", exact=False)).to_be_visible()
    boss.get_by_role("button", name="Approve").click()
    expect(boss.get_by_text("deleted", exact=False).last).to_be_visible()
    assert platform.action(owner, action.id).status == "succeeded"
    assert not any(
        a.name == "catalog" for a in platform.applications(owner, "acme-staging", "shop")
    )


def test_sign_in_refuses_wrong_passwords_and_unknown_people(chat_url: str) -> None:
    login = f"{chat_url}/chat/login"
    ok = httpx.post(login, data={"username": "viewer@acme.example", "password": "dev"})
    assert ok.status_code == 200
    assert ok.json()["success"] is True
    assert any(name.startswith("access_token") for name in ok.cookies)  # Chainlit's session
    for username, password in [("viewer@acme.example", "nope"), ("who@else.example", "dev")]:
        refused = httpx.post(login, data={"username": username, "password": password})
        assert refused.status_code == 401, refused.text
    link = httpx.get(f"{chat_url}/chat?session=abc123", follow_redirects=False)
    assert link.status_code == 307
    assert link.headers["location"] == "/chat/"
    assert "hexaops_chat_session=abc123" in link.headers["set-cookie"]


def test_the_chat_mounts_on_the_api_app_and_finds_its_services(
    platform: Platform, store: ClickHouseStore, chdb_home: Path
) -> None:
    """On `hexaops serve`'s app the platform and agents exist only once its lifespan runs:
    mounted with None, the chat finds them in `app.state.services`."""
    from hexaops.ui.api import create_app

    settings = Settings(home=chdb_home, model_provider="offline")
    with AgentService(settings, platform, resources={"telemetry": store}) as agents:
        app = create_app(settings, platform, agents)
        mount_chat(app, None, None, settings)
        with TestClient(app) as client:
            login = {"username": "owner@acme.example", "password": "dev"}
            assert client.post("/chat/login", data=login).json()["success"] is True
            assert client.get("/healthz").status_code == 200  # the API is still there
