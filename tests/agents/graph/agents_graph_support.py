"""A scripted chat model for the graph tests: routes on keywords, calls the tools a test plans,
then answers with the last tool result's summary (so tests see what the tools returned)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import Field

from hexaops.agents.quoting import unquote_tool_result

ROUTES = {
    "deploy": "provisioning",
    "delete": "provisioning",
    "latency": "observability",
    "vulnerab": "security",
    "replicas": "scaling",
    "broken": "incident",
    "runbook": "knowledge",
}


class ScriptedModel(BaseChatModel):
    """`plans`: words of the question → the tool calls (name, args) the specialist makes."""

    plans: dict[str, list[tuple[str, dict[str, Any]]]] = Field(default_factory=dict)
    bound: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(
        self, tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool], **_: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        names = [t.name for t in tools if isinstance(t, BaseTool)]
        return self.model_copy(update={"bound": names})

    def _generate(self, messages: list[BaseMessage], *_: Any, **__: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        question = next(m for m in reversed(messages) if isinstance(m, HumanMessage)).text
        turn = messages[[id(m) for m in messages].index(id(_last_human(messages))) :]
        if any(n.startswith("route_to_") for n in self.bound):
            for word, specialist in ROUTES.items():
                if word in question.lower():
                    return _call(f"route_to_{specialist}", {}, len(messages))
            return AIMessage("Hello! Ask me about your workspaces.")
        done = [m for m in turn if isinstance(m, ToolMessage)]
        plan = next((p for w, p in self.plans.items() if w in question.lower()), [])
        if len(done) < len(plan):
            name, args = plan[len(done)]
            return _call(name, args, len(messages))
        if not done:
            return AIMessage("nothing to do")
        fields = unquote_tool_result(str(done[-1].content)) or {}
        return AIMessage(f"{fields.get('status')}: {fields.get('summary')}")


def _last_human(messages: list[BaseMessage]) -> BaseMessage:
    return next(m for m in reversed(messages) if isinstance(m, HumanMessage))


def _call(name: str, args: dict[str, Any], n: int) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": f"call-{name}-{n}"}])
