"""Tool bindings are made once per tool set (the agent loop binds on every model call), and a
reused binding still sends the provider exactly the tools it was made with."""

from __future__ import annotations

from providers_wire import WireServer, anthropic_message, text_block

from hexaops.agents.offline import OfflinePlanner
from hexaops.agents.providers import build_chat_model
from hexaops.agents.providers.bindings import ToolBindings
from hexaops.agents.toolkit import agent_tools
from hexaops.settings import Settings

READS = ["platform_workspaces", "platform_projects"]


def test_a_provider_binding_is_reused_and_still_sends_its_tools(wire: WireServer) -> None:
    wire.reply(*[anthropic_message(text_block("ok"), usage=(10, 2))] * 2)
    settings = Settings(model_provider="anthropic", model_base_url=wire.url, model_api_key="k")
    model = build_chat_model(settings).chat_model
    tools = agent_tools(READS)

    first = model.bind_tools(list(tools))  # a new list each call, as the agent loop makes
    again = model.bind_tools(list(tools))
    fewer = model.bind_tools(tools[:1])
    first.invoke("which workspaces?")
    again.invoke("which workspaces?")

    assert again is first
    assert fewer is not first
    sent = [[t["name"] for t in seen.body["tools"]] for seen in wire.requests]
    assert sent == [READS, READS]


def test_the_offline_planner_binds_each_tool_set_and_choice_once() -> None:
    planner = OfflinePlanner()
    tools = agent_tools(READS)

    bound = planner.bind_tools(tools)

    assert planner.bind_tools(list(tools)) is bound
    assert planner.bind_tools(tools, tool_choice="any") is not bound
    assert planner.bind_tools(agent_tools(READS)) is not bound  # other tool objects
    assert sorted(bound.tool_specs) == sorted(READS)  # type: ignore[attr-defined]


def test_tools_given_as_schemas_are_bound_afresh_and_the_cache_is_bounded() -> None:
    bindings = ToolBindings(size=2)
    made: list[int] = []

    def bind() -> int:
        made.append(len(made))
        return made[-1]

    schema = {"name": "lookup", "description": "d", "parameters": {"type": "object"}}
    assert bindings.get([schema], {}, bind) != bindings.get([schema], {}, bind)
    sets = [agent_tools([name]) for name in ("platform_workspaces", "platform_projects")]
    sets.append(agent_tools(["platform_workspaces"]))
    first = bindings.get(sets[0], {}, bind)
    assert bindings.get(sets[0], {}, bind) == first
    bindings.get(sets[1], {}, bind)
    bindings.get(sets[2], {}, bind)  # a third set: the least recently used one goes
    assert bindings.get(sets[0], {}, bind) != first
