"""The agent team: model providers (incl. the offline planner), the LangGraph graphs, guardrails
and accounting. Agents act only through the tools in `hexaops.tools`."""
