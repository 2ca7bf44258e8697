"""Routing mode: when the planner is the supervisor, it picks the specialist for a request.

The supervisor binds one handoff tool per specialist, `route_to_<specialist>`, without
arguments. The planner classifies the latest request with the intent registry and calls the
route of the specialist that owns the intent (`ROUTES`, the one table of that mapping);
greetings, help and requests it cannot place get a text answer. A follow-up ("yes", the answer
to a clarifying question) goes back to the specialist that asked; a yes to an offered write
goes to a specialist that holds its tool (an investigation may offer a change that only
provisioning makes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from hexaops.agents.offline import registry
from hexaops.agents.offline.conversation import (
    CLARIFY,
    PROPOSAL,
    ROUTE_PREFIX,
    Turn,
    is_route,
    text_of,
)
from hexaops.agents.offline.slots import extract
from hexaops.agents.offline.steps import Answer, Situation, Step, ToolCalls
from hexaops.agents.specialists import specialists

# intent → specialist. "What's wrong" goes to incident (it may offer a rollback or restart, and
# the user's "yes" returns there); a restart or rollback asked for directly is a platform change
# like the others and goes to provisioning, which holds every platform write and read. Scaling
# (replicas, autoscalers, right-sizing) goes to scaling; telemetry questions to observability;
# the platform's objects, changes, members and actions to provisioning; how-tos to knowledge.
ROUTES: Final[dict[str, str]] = {
    "investigate": "incident",
    "restart": "provisioning",
    "rollback": "provisioning",
    "workload_metrics": "observability",
    "top_consumers": "observability",
    "compare_deploy": "observability",
    "log_summary": "observability",
    "log_search": "observability",
    "top_errors": "observability",
    "k8s_events": "observability",
    "config_scan": "security",
    "vulnerabilities": "security",
    "scaling_recommend": "scaling",
    "scaling_whatif": "scaling",
    "scale": "scaling",
    "autoscale": "scaling",
    "howto": "knowledge",
    "workspace_list": "provisioning",
    "project_list": "provisioning",
    "workload_list": "provisioning",
    "workspace_create": "provisioning",
    "workspace_delete": "provisioning",
    "project_create": "provisioning",
    "project_delete": "provisioning",
    "deploy": "provisioning",
    "app_delete": "provisioning",
    "recent_changes": "provisioning",
    "members": "provisioning",
    "actions": "provisioning",
}

# Words that place a request the intent registry has no intent for (first match wins).
HINTS: Final[tuple[tuple[str, str], ...]] = (
    (r"\b(hpa|autoscal\w*|scale to zero|min replicas|max replicas)\b", "scaling"),
    (r"\b(events?|pod logs?|kubectl logs|dashboards?|alerts?|promql|logql|sql)\b", "observability"),
    (r"\b(incidents?|outage|postmortem|remediat\w*|mitigat\w*)\b", "incident"),
    (r"\b(cve|image bump|rbac|secrets?|network polic\w*)\b", "security"),
    (r"\b(quota|node pool|nodes?|invite|access)\b", "provisioning"),
)
_THANKS: Final = re.compile(r"^(thanks|thank you|thx|cheers|great|perfect|nice|ok thanks)\b\W*$")
_ORDER: Final = ("incident", "observability", "scaling", "security", "provisioning", "knowledge")
_QUESTION: Final = re.compile(
    r"\?\s*$|^(what|which|how|why|when|where|who|is|are|can|could|does|do|should|explain)\b"
)
_FOLLOW_UP_WORDS: Final = 5  # a reply this short without an intent of its own continues


def routing_mode(tools: Mapping[str, object]) -> bool:
    """Whether the bound tools are all handoffs (the planner is the supervisor)."""
    return bool(tools) and all(name.startswith(ROUTE_PREFIX) for name in tools)


def specialist_of(tool: str) -> str:
    return tool.removeprefix(ROUTE_PREFIX)


def route(messages: Sequence[BaseMessage], tools: dict[str, dict[str, Any]]) -> Step:
    """The handoff for the latest request, or a text answer."""
    humans = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
    if not humans:
        return Answer(_menu(tools, "Ask me about your platform. I can help with:"))
    latest = humans[-1]
    after = messages[latest + 1 :]
    if any(is_route(c["name"]) for m in after if isinstance(m, AIMessage) for c in m.tool_calls):
        # Already handed off this turn: the specialist's answer is the turn's answer.
        answers = [m for m in after if isinstance(m, AIMessage) and not m.tool_calls]
        return Answer(text_of(answers[-1]) if answers else "")
    slots = extract(text_of(messages[latest]))
    text = slots.text
    situation = Situation(turn=Turn(request=text), slots=slots)
    intent = registry.choose(situation)
    if not text or (intent is None and re.search(registry.HELP, text)):
        greeting = re.match(r"(hello|hi|hey)\b", text)
        return Answer(_menu(tools, "Hello! I can help with:" if greeting else "I can help with:"))
    if _THANKS.search(text):
        return Answer("You're welcome. Ask me anything else about your workspaces.")
    previous = _previous_specialist(messages[:latest], tools)
    asked = _asked(messages[:latest])
    short = len(text.split()) <= _FOLLOW_UP_WORDS
    offered = _offered(messages[:latest])
    if offered and registry.confirms(situation):
        holder = _holder(offered, previous, tools)
        if holder is not None:
            return _call(holder)
    if previous is not None and (
        (intent is None and (short or asked)) or (registry.YES.search(text) and asked)
    ):
        return _call(previous)
    if intent is not None:
        wanted = f"{ROUTE_PREFIX}{ROUTES.get(intent.name, '')}"
        if wanted in tools:
            return _call(wanted)
    for pattern, specialist in HINTS:
        if intent is None and re.search(pattern, text) and f"{ROUTE_PREFIX}{specialist}" in tools:
            return _call(f"{ROUTE_PREFIX}{specialist}")
    fallback = f"{ROUTE_PREFIX}knowledge"
    if fallback in tools and _QUESTION.search(text):
        return _call(fallback)
    return Answer(_menu(tools, "I am not sure what you need. I can help with:"))


def _call(tool: str) -> ToolCalls:
    return ToolCalls([(tool, {})])


def _asked(history: Sequence[BaseMessage]) -> bool:
    """Whether our last answer asked the user something (a question or an offer)."""
    answers = [m for m in history if isinstance(m, AIMessage) and not m.tool_calls]
    if not answers:
        return False
    flags = answers[-1].additional_kwargs
    return bool(flags.get(CLARIFY) or flags.get(PROPOSAL)) or text_of(
        answers[-1]
    ).rstrip().endswith("?")


def _offered(history: Sequence[BaseMessage]) -> str | None:
    """The write tool our last answer offered to run on a yes."""
    answers = [m for m in history if isinstance(m, AIMessage) and not m.tool_calls]
    offer = answers[-1].additional_kwargs.get(PROPOSAL) if answers else None
    return str(offer["tool"]) if isinstance(offer, dict) and offer.get("tool") else None


def _holder(tool: str, previous: str | None, tools: dict[str, dict[str, Any]]) -> str | None:
    """The route of the specialist that can run `tool`: the one that offered it when it holds
    the tool (an investigation may offer a change only another specialist makes)."""
    holding = [
        f"{ROUTE_PREFIX}{s.name}"
        for s in specialists()
        if tool in s.tools and f"{ROUTE_PREFIX}{s.name}" in tools
    ]
    if previous in holding:
        return previous
    return holding[0] if holding else previous


def _previous_specialist(
    history: Sequence[BaseMessage], tools: dict[str, dict[str, Any]]
) -> str | None:
    """The route of the specialist that answered last: the answer's `name`, else the last
    handoff in the history (only routes that are bound now)."""
    for message in reversed(history):
        if not isinstance(message, AIMessage):
            continue
        if not message.tool_calls and message.name and f"{ROUTE_PREFIX}{message.name}" in tools:
            return f"{ROUTE_PREFIX}{message.name}"
        routes = [c["name"] for c in message.tool_calls if is_route(c["name"])]
        if routes and routes[-1] in tools:
            return routes[-1]
    return None


def _menu(tools: dict[str, dict[str, Any]], lead: str) -> str:
    """The bound specialists, what each is for and how to ask it."""
    lines = [lead, ""]
    rank = {name: i for i, name in enumerate(_ORDER)}
    for tool in sorted(tools, key=lambda t: (rank.get(specialist_of(t), len(rank)), t)):
        specialist = specialist_of(tool)
        examples = [
            f'"{e}"'
            for intent in registry.INTENTS
            if ROUTES.get(intent.name) == specialist
            for e in intent.examples[:1]
        ][:2]
        described = _first_sentence(str(tools[tool].get("description") or ""))
        line = f"- **{specialist}**"
        if described:
            line += f": {described.rstrip('.')}"
        if examples:
            line += f" — e.g. {', '.join(examples)}"
        lines.append(line)
    lines.append("\nName the workspace (and project or application) when you can.")
    return "\n".join(lines)


def _first_sentence(text: str) -> str:
    """The lead of a description: up to its first sentence end or colon, shortened."""
    flat = " ".join(text.split())
    sentence = re.split(r"(?<=[.!?:;])\s", flat, maxsplit=1)[0].rstrip(".:;")
    return sentence if len(sentence) <= 120 else sentence[:119] + "…"
