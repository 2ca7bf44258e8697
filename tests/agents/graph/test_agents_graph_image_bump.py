"""A write tool whose result carries more than the action (the image bump) waits for approval
like the platform writes, then runs."""

from __future__ import annotations

from collections.abc import Callable

from agents_graph_support import ScriptedModel

from hexaops.agents.events import Answer, ApprovalRequested
from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal

BUMP = (
    "security_propose_image_bump",
    {"workspace": "acme-prod", "project": "shop", "application": "checkout", "tag": "1.4.3"},
)


def _image(platform: Platform, who: Principal) -> str:
    apps = platform.applications(who, "acme-prod", "shop", "acme")
    return next(a.image for a in apps if a.name == "checkout")


def test_the_image_bump_is_planned_then_runs_when_approved(
    service_for: Callable[..., AgentService], platform: Platform, dev: Principal
) -> None:
    service = service_for(ScriptedModel(plans={"vulnerab": [BUMP]}))
    before = _image(platform, dev)
    waiting = list(service.ask(dev, "patch the vulnerable checkout image to 1.4.3"))[-1]
    assert isinstance(waiting, ApprovalRequested), waiting
    assert waiting.request["action"] == "application.deploy"
    assert _image(platform, dev) == before  # planned only
    done = list(service.resume(dev, waiting.session_id, {"decision": "approve"}))[-1]
    assert isinstance(done, Answer)
    assert _image(platform, dev) == "ghcr.io/acme/checkout:1.4.3"
