"""The scaling specialist's write (scaling_apply) is planned, waits for approval like the
platform writes, and runs once approved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents_graph_support import ScriptedModel

from hexaops.agents.events import Answer, ApprovalRequested
from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal

APPLY = (
    "scaling_apply",
    {
        "workspace": "acme-prod",
        "project": "shop",
        "application": "checkout",
        "proposed": {"min_replicas": 2, "max_replicas": 6},
    },
)


def _autoscaling(platform: Platform, who: Principal) -> dict[str, Any] | None:
    apps = platform.applications(who, "acme-prod", "shop", "acme")
    return next(a.autoscaling for a in apps if a.name == "checkout")


def test_scaling_apply_waits_for_approval_then_runs(
    service_for: Callable[..., AgentService], platform: Platform, dev: Principal
) -> None:
    service = service_for(ScriptedModel(plans={"autoscal": [APPLY]}))
    waiting = list(service.ask(dev, "set the checkout autoscaler to 2-6 replicas"))[-1]
    assert isinstance(waiting, ApprovalRequested), waiting
    assert waiting.request["action"] == "application.set_hpa"
    assert _autoscaling(platform, dev) is None  # planned only

    done = list(service.resume(dev, waiting.session_id, {"decision": "approve"}))[-1]
    assert isinstance(done, Answer), done
    assert _autoscaling(platform, dev) == {
        "min_replicas": 2,
        "max_replicas": 6,
        "target_cpu_percent": 70,
    }
