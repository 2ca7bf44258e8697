"""The offline planner's first decision for a request: which tool, with which arguments."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from hexaops.agents.offline import OfflinePlanner
from hexaops.tools.catalog import all_tools

KNOWLEDGE = {
    "type": "function",
    "function": {
        "name": "knowledge_search",
        "description": "Search the platform documentation and runbooks.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "topic": {"type": "string"}},
            "required": ["query"],
        },
    },
}


def _specs(names: list[str] | None = None) -> list[dict[str, Any]]:
    tools = all_tools()
    chosen = names if names is not None else list(tools)
    specs: list[dict[str, Any]] = [
        {
            "type": "function",
            "function": {
                "name": n,
                "description": tools[n].description,
                "parameters": tools[n].input_schema(),
            },
        }
        for n in chosen
        if n in tools
    ]
    if names is None or "knowledge_search" in names:
        specs.append(KNOWLEDGE)
    return specs


def _decide(text: str, names: list[str] | None = None) -> AIMessage:
    message = OfflinePlanner().bind_tools(_specs(names)).invoke([HumanMessage(text)])
    assert isinstance(message, AIMessage)
    return message


P, S = "acme-prod", "shop"
TABLE: list[tuple[str, str, dict[str, Any]]] = [
    # troubleshooting
    ("what's wrong in acme-staging?", "diagnose", {"workspace": "acme-staging"}),
    ("diagnose acme-prod/shop/payments over the last 2 hours", "diagnose",
     {"workspace": P, "project": S, "application": "payments", "since": "2h"}),
    ("Why is acme-prod/shop/checkout crashing since 15m?", "diagnose",
     {"workspace": P, "project": S, "application": "checkout", "since": "15m"}),
    ("is anything broken in workspace acme-prod", "diagnose", {"workspace": P}),
    ("why is checkout failing?", "platform_workspaces", {}),
    # metrics
    ("cpu and memory of acme-prod/shop/checkout over the last 2 hours", "metrics_workload",
     {"workspace": P, "project": S, "workload": "checkout", "since": "2h"}),
    ("what's the p95 latency of acme-prod/shop/frontend today", "metrics_workload",
     {"workspace": P, "project": S, "workload": "frontend", "since": "24h"}),
    ("error rate in acme-prod in the past 30 min", "metrics_workload",
     {"workspace": P, "since": "30m"}),
    ("memory usage of all my workspaces in the last 1.5 hours", "metrics_workload",
     {"since": "90m"}),
    ("which app uses the most cpu in acme-prod?", "metrics_top_consumers",
     {"workspace": P, "resource": "cpu", "by": "workload"}),
    ("top memory consumers by project", "metrics_top_consumers",
     {"resource": "memory", "by": "project"}),
    ("did the last deploy of acme-prod/shop/checkout make things worse?", "metrics_compare",
     {"workspace": P, "project": S, "workload": "checkout"}),
    ("compare acme-prod/shop/payments before and after the rollout", "metrics_compare",
     {"workspace": P, "project": S, "workload": "payments"}),
    # logs
    ("what do the logs of acme-prod/shop/checkout say?", "logs_summary",
     {"workspace": P, "project": S, "workload": "checkout"}),
    ("summarize the logs of acme-prod in the last hour", "logs_summary",
     {"workspace": P, "since": "1h"}),
    ('search the logs of acme-prod/shop/checkout for "connection refused"', "logs_search",
     {"workspace": P, "project": S, "workload": "checkout", "contains": "connection refused"}),
    ("find log lines containing timeout in acme-prod", "logs_search",
     {"workspace": P, "contains": "timeout"}),
    ("top errors today", "logs_top_errors", {"since": "24h"}),
    ("what are the most frequent errors in acme-staging?", "logs_top_errors",
     {"workspace": "acme-staging"}),
    # security
    ("security scan of workspace acme-prod, only high severity", "security_config_scan",
     {"workspace": P, "min_severity": "HIGH"}),
    ("scan acme-prod for misconfigurations", "platform_workspaces", {}),
    ("CVEs of acme-prod/shop/checkout", "security_vulnerabilities",
     {"workspace": P, "project": S, "application": "checkout"}),
    ("which images have critical vulnerabilities?", "security_vulnerabilities",
     {"min_severity": "CRITICAL"}),
    # scaling
    ("how many replicas should acme-prod/shop/checkout have?", "scaling_recommend",
     {"workspace": P, "project": S, "application": "checkout"}),
    ("right-size acme-prod/shop/frontend over the last 7 days", "scaling_recommend",
     {"workspace": P, "project": S, "application": "frontend", "since": "1w"}),
    ("what if I scale acme-prod/shop/checkout to 4 replicas?", "scaling_whatif",
     {"workspace": P, "project": S, "application": "checkout", "proposed": {"replicas": 4}}),
    ("what would 1 GiB of memory do for acme-prod/shop/payments?", "scaling_whatif",
     {"workspace": P, "project": S, "application": "payments",
      "proposed": {"memory_request": "1Gi"}}),
    # knowledge
    ("how do I expose an application?", "knowledge_search",
     {"query": "how do I expose an application?"}),
    # platform reads
    ("which workspaces do I have?", "platform_workspaces", {}),
    ("list projects in acme-prod", "platform_projects", {"workspace": P}),
    ("what's running in acme-prod/shop?", "platform_workloads", {"workspace": P, "project": S}),
    ("show pending actions", "platform_actions", {"status": "pending"}),
    ("status of action #12", "platform_action", {"action_id": 12}),
    # platform changes
    ("create project payments in acme-prod with 2 cores and 4Gi and 30 pods",
     "platform_project_create",
     {"workspace": P, "name": "payments", "cpu": "2", "memory": "4Gi", "pods": 30}),
    ("create a namespace called batch in acme-staging with 500m cpu and 512 MiB",
     "platform_project_create",
     {"workspace": "acme-staging", "name": "batch", "cpu": "500m", "memory": "512Mi"}),
    ("delete project old-shop in acme-staging", "platform_project_delete",
     {"workspace": "acme-staging", "name": "old-shop"}),
    ("delete workspace acme-staging", "platform_workspace_delete", {"name": "acme-staging"}),
    ("dry run: delete workspace acme-staging", "platform_workspace_delete",
     {"name": "acme-staging", "dry_run": True}),
    ("create a shared workspace named sandbox-1 in org acme", "platform_workspace_create",
     {"org": "acme", "name": "sandbox-1", "plan_name": "shared"}),
    ("create a dedicated workspace named data-lab with 3 nodes", "platform_organizations", {}),
    # a deploy first checks whether the app exists (a new tag keeps its resources)
    ("deploy ghcr.io/acme/api:1.0.0 as app api in acme-prod/shop with 2 replicas",
     "platform_workloads", {"workspace": P, "project": S}),
    ("roll back acme-prod/shop/checkout", "platform_application_rollback",
     {"workspace": P, "project": S, "name": "checkout"}),
    ("revert acme-prod/shop/payments to revision 2", "platform_application_rollback",
     {"workspace": P, "project": S, "name": "payments", "to_revision": 2}),
    ("please bounce the frontend app in acme-prod/shop", "platform_application_restart",
     {"workspace": P, "project": S, "name": "frontend"}),
    ("Scale acme-staging/shop/checkout to 5", "platform_application_scale",
     {"workspace": "acme-staging", "project": S, "name": "checkout", "replicas": 5}),
    ("scale checkout in acme-staging to 3 replicas", "platform_projects",
     {"workspace": "acme-staging"}),
    ("delete app old-api in acme-staging/shop", "platform_application_delete",
     {"workspace": "acme-staging", "project": S, "name": "old-api"}),
    ("make acme-staging/shop/checkout run 4 replicas", "platform_application_scale",
     {"workspace": "acme-staging", "project": S, "name": "checkout", "replicas": 4}),
    ("set replicas of acme-staging/shop/checkout to 4", "platform_application_scale",
     {"workspace": "acme-staging", "project": S, "name": "checkout", "replicas": 4}),
    ("add a project named analytics to acme-staging", "platform_project_create",
     {"workspace": "acme-staging", "name": "analytics"}),
    ("restart checkout", "platform_workspaces", {}),
    # more ways to ask
    ("any OOM kills in acme-prod?", "diagnose", {"workspace": P}),
    ("is checkout healthy in acme-prod?", "platform_projects", {"workspace": P}),
    ("why did the last deploy of acme-prod/shop/checkout fail?", "diagnose",
     {"workspace": P, "project": S, "application": "checkout"}),
    ("show me the errors of acme-prod/shop/payments in the last 30 minutes", "logs_search",
     {"workspace": P, "project": S, "workload": "payments", "level": "ERROR", "since": "30m"}),
    ("logs for payments in acme-prod since yesterday", "platform_projects", {"workspace": P}),
    ("bump acme-prod/shop/frontend memory limit to 1Gi", "scaling_whatif",
     {"workspace": P, "project": S, "application": "frontend",
      "proposed": {"memory_limit": "1Gi"}}),
    ("what changed recently in acme-prod?", "platform_recent_changes", {"workspace": P}),
    ("who are the members of acme?", "platform_members", {"org": "acme"}),
    ("what does CrashLoopBackOff mean?", "knowledge_search",
     {"query": "what does CrashLoopBackOff mean?"}),
]  # fmt: skip


@pytest.mark.parametrize(("text", "tool", "args"), TABLE, ids=[t for t, _, _ in TABLE])
def test_first_tool_call(text: str, tool: str, args: dict[str, Any]) -> None:
    message = _decide(text)
    assert [(c["name"], c["args"]) for c in message.tool_calls][:1] == [(tool, args)]


def test_the_table_is_large_and_varied() -> None:
    assert len(TABLE) >= 40
    assert len({tool for _, tool, _ in TABLE}) >= 25


def test_unknown_request_lists_capabilities() -> None:
    message = _decide("bake me a chocolate cake")
    assert not message.tool_calls
    text = str(message.content)
    assert "could not map" in text
    for group in ("Troubleshooting", "Metrics", "Logs", "Security", "Scaling", "Platform"):
        assert f"**{group}**" in text
    assert '"why is payments failing?"' in text


def test_only_bound_tools_are_called() -> None:
    # A metrics specialist is asked to restart something: it says what it would need.
    message = _decide(
        "restart acme-prod/shop/frontend", ["metrics_workload", "platform_workspaces"]
    )
    assert not message.tool_calls
    assert "`platform_application_restart`" in str(message.content)
    # Its capability list only offers what it can do.
    help_text = str(_decide("what can you do?", ["metrics_workload"]).content)
    assert "Metrics" in help_text
    assert "Platform changes" not in help_text


def test_missing_quantity_is_asked_for() -> None:
    message = _decide("scale acme-prod/shop/checkout")
    assert not message.tool_calls
    assert "How many replicas" in str(message.content) or "how many replicas" in str(
        message.content
    )
    assert message.additional_kwargs.get("hexaops_clarify") is True


def test_ids_are_deterministic_and_unique() -> None:
    first = _decide("what's wrong in acme-staging?")
    again = _decide("what's wrong in acme-staging?")
    other = _decide("what's wrong in acme-prod?")
    assert first.id == again.id
    assert first.tool_calls[0]["id"] == again.tool_calls[0]["id"]
    assert first.id != other.id
    assert first.tool_calls[0]["id"] != other.tool_calls[0]["id"]
    # A session (e.g. the thread id) keeps two conversations' writes apart.
    threaded = OfflinePlanner(session="thread-7").bind_tools(_specs())
    other_thread = threaded.invoke([HumanMessage("what's wrong in acme-staging?")])
    assert isinstance(other_thread, AIMessage)
    assert other_thread.tool_calls[0]["id"] != first.tool_calls[0]["id"]
    assert first.usage_metadata is not None
    assert first.usage_metadata["input_tokens"] > 0


def test_the_answer_streams_in_chunks() -> None:
    model = OfflinePlanner().bind_tools(_specs())
    chunks = list(model.stream([HumanMessage("bake me a cake")]))
    assert len(chunks) > 3
    assert "".join(str(c.content) for c in chunks) == str(
        model.invoke([HumanMessage("bake me a cake")]).content
    )
