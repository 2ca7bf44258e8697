"""A scripted chat model for the API tests: routes on keywords, makes the tool calls a test
planned, then answers with the last tool result's summary."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import Field

from hexaops.agents.quoting import unquote_tool_result

ROUTES = {"delete": "provisioning", "replicas": "scaling", "list": "provisioning"}
DELETE_CATALOG = (
    "platform_application_delete",
    {"workspace": "acme-staging", "project": "shop", "name": "catalog"},
)
LIST_WORKSPACES = ("platform_workspaces", {"org": "acme"})


class ApiScriptedModel(BaseChatModel):
    plans: dict[str, list[tuple[str, dict[str, Any]]]] = Field(default_factory=dict)
    bound: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "api-scripted"

    def bind_tools(
        self, tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool], **_: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.model_copy(update={"bound": [t.name for t in tools if isinstance(t, BaseTool)]})

    def _generate(self, messages: list[BaseMessage], *_: Any, **__: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        last_human = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
        question = messages[last_human].text.lower()
        if any(n.startswith("route_to_") for n in self.bound):
            for word, specialist in ROUTES.items():
                if word in question:
                    return _call(f"route_to_{specialist}", {}, len(messages))
            return AIMessage("Hello! Ask me about your workspaces.")
        done = [m for m in messages[last_human:] if isinstance(m, ToolMessage)]
        plan = next((p for w, p in self.plans.items() if w in question), [])
        if len(done) < len(plan):
            name, args = plan[len(done)]
            return _call(name, args, len(messages))
        fields = unquote_tool_result(str(done[-1].content)) or {} if done else {}
        return AIMessage(f"{fields.get('status')}: {fields.get('summary')}")


def _call(name: str, args: dict[str, Any], n: int) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": f"call-{name}-{n}"}])


MODEL = ApiScriptedModel(plans={"delete": [DELETE_CATALOG], "list": [LIST_WORKSPACES]})


def sse_events(body: str) -> list[tuple[str, dict[str, Any]]]:
    """(event name, JSON data) of a text/event-stream body, in order (pings left out)."""
    out = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":"
        )
        if "event" in fields and "data" in fields:
            out.append((fields["event"], json.loads(fields["data"])))
    return out
