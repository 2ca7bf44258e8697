"""The tool contract as a caller relies on it: validation, errors as results, budgets, tenancy."""

from __future__ import annotations

from collections.abc import Callable

from hexaops.tools.catalog import all_tools
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import run_tool


def test_every_tool_has_a_description_and_a_strict_schema() -> None:
    tools = all_tools()
    assert "platform_workspaces" in tools
    for tool in tools.values():
        assert tool.description, tool.name
        schema = tool.input_schema()
        assert schema.get("additionalProperties") is False, tool.name


def test_unknown_tool_and_bad_arguments_are_error_results(
    tool_context: Callable[..., ToolContext],
) -> None:
    ctx = tool_context()
    missing = run_tool(ctx, "no_such_tool", {})
    assert missing.status == "error"
    assert "hexaops tool list" in missing.summary
    typo = run_tool(ctx, "platform_workspaces", {"orgg": "acme"})
    assert typo.status == "error"
    assert "orgg" in typo.summary
    assert typo.error_code == "invalid"


def test_another_orgs_data_is_not_found(tool_context: Callable[..., ToolContext]) -> None:
    result = run_tool(tool_context(), "platform_workspaces", {"org": "globex"})
    assert result.status == "error"
    assert result.error_code == "not_found"


def test_results_fit_the_budget(tool_context: Callable[..., ToolContext]) -> None:
    full = run_tool(tool_context(), "platform_workspaces", {})
    assert full.status == "ok"
    assert not full.truncated
    assert len(full.data) == 2
    small = run_tool(tool_context(budget_tokens=200), "platform_workspaces", {})
    assert small.truncated
    assert small.tokens <= 200
    assert small.summary.startswith(full.summary)
    assert small.evidence == full.evidence
