"""Our tools as LangChain tools, bound to one ToolContext (the requesting principal).

The model sees each tool's name, description and input schema; a call runs through `run_tool`
(validation, authorization, budget) with the model's tool-call id as the idempotency key of
writes, and comes back as a quoted result (see `quoting.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from langchain_core.tools import BaseTool, InjectedToolCallId, StructuredTool
from pydantic import ValidationError, create_model

from hexaops.agents.quoting import quote_tool_result
from hexaops.platform.operations import describe_validation_error
from hexaops.tools.catalog import all_tools
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import Tool, ToolResult, run_tool


def _langchain_tool(ctx: ToolContext, found: Tool[Any], session: str | None) -> BaseTool:
    # The call id is injected by the tool node, never chosen by the model (not in its schema).
    schema = create_model(
        f"{found.args.__name__}Call",
        __base__=found.args,
        tool_call_id=(Annotated[str, InjectedToolCallId], ...),
    )

    def call(tool_call_id: str, **arguments: Any) -> str:
        # Call ids are unique within a conversation (the offline planner's are deterministic):
        # scoped by the session, a retried call is idempotent and a new conversation is new.
        call_id = f"{session}/{tool_call_id}" if session else tool_call_id
        return quote_tool_result(run_tool(ctx, found.name, arguments, call_id=call_id))

    def invalid(exc: ValidationError) -> str:
        # LangChain validates before `call`: answer as run_tool would, as a quoted error result.
        message = describe_validation_error(exc)
        return quote_tool_result(
            ToolResult(tool=found.name, status="error", summary=message, error_code="invalid")
        )

    return StructuredTool.from_function(
        func=call,
        name=found.name,
        description=found.description,
        args_schema=schema,
        handle_validation_error=invalid,
        metadata={"toolset": found.toolset, "writes": found.writes},
    )


def langchain_tools(
    ctx: ToolContext, names: Iterable[str] | None = None, *, session: str | None = None
) -> list[BaseTool]:
    """LangChain tools for `names` (default: every tool), acting as `ctx.principal` in the
    conversation `session` (e.g. the LangGraph thread id)."""
    tools = all_tools()
    wanted = list(tools) if names is None else list(names)
    unknown = [n for n in wanted if n not in tools]
    if unknown:
        raise ValueError(f"unknown tools: {', '.join(unknown)}")
    return [_langchain_tool(ctx, tools[n], session) for n in wanted]
