"""Scope resolution: which organization, workspace, project and workload a request is about.

The user's words give names; the platform reads (platform_organizations, platform_workspaces,
platform_projects, platform_workloads) say what exists. When a name is missing the planner
lists what the principal can see, one level per step, and plans again; when a name matches in
several places it asks which one is meant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from hexaops.agents.offline import render
from hexaops.agents.offline.steps import Answer, Situation, Step, ToolCalls

_READERS = (
    "platform_organizations",
    "platform_workspaces",
    "platform_projects",
    "platform_workloads",
)

# org: an organization; workspace/project/workload: that object is required; narrow: a
# workspace, narrowed to a project or workload when the words name one; optional: everything
# the principal sees unless the words name something.
Level = Literal["org", "workspace", "project", "workload", "narrow", "optional"]


@dataclass
class Scope:
    org: str | None = None
    workspace: str | None = None
    project: str | None = None
    application: str | None = None
    function: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def target(self) -> str | None:
        return self.application or self.function

    def path(self) -> str:
        parts = [p for p in (self.workspace, self.project, self.target) if p]
        return "/".join(parts) if parts else "all your workspaces"


@dataclass
class Inventory:
    """What the platform reads of this turn returned."""

    orgs: list[str] = field(default_factory=list)
    workspaces: dict[str, str] = field(default_factory=dict)  # name → org
    listed_workspaces: bool = False
    projects: dict[str, list[str]] = field(default_factory=dict)
    workloads: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)

    @classmethod
    def read(cls, situation: Situation) -> Inventory:
        inventory = cls()
        for call in situation.turn.calls:
            if call.result is None:
                continue
            data: Any = call.data if call.ok else None
            if call.name == "platform_organizations" and isinstance(data, list):
                inventory.orgs = [str(o.get("slug")) for o in data if isinstance(o, dict)]
            elif call.name == "platform_workspaces":
                inventory.listed_workspaces = True
                for ws in data if isinstance(data, list) else []:
                    if isinstance(ws, dict) and ws.get("name"):
                        inventory.workspaces[str(ws["name"])] = str(ws.get("org") or "")
            elif call.name == "platform_projects":
                names = [str(p["name"]) for p in data or [] if isinstance(p, dict) and "name" in p]
                inventory.projects[str(call.args.get("workspace"))] = names
            elif call.name == "platform_workloads":
                key = (str(call.args.get("workspace")), str(call.args.get("project")))
                found = data if isinstance(data, dict) else {}
                inventory.workloads[key] = [
                    (kind, str(item["name"]))
                    for kind, items in (("application", "applications"), ("function", "functions"))
                    for item in found.get(items) or []
                    if isinstance(item, dict) and "name" in item
                ]
        if not inventory.orgs:
            inventory.orgs = sorted({o for o in inventory.workspaces.values() if o})
        return inventory


def _listing(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) if names else "none"


def resolve(situation: Situation, level: Level) -> Scope | Step:
    """The scope of the request, or the next step towards it (a read or a question)."""
    slots = situation.slots
    scope = Scope(
        org=slots.org,
        workspace=slots.workspace,
        project=slots.project,
        application=slots.application,
        function=slots.function,
    )
    words = list(slots.candidates)
    for call in situation.turn.calls:
        # A failed lookup (unknown workspace, no access, backend down) is the answer: say so.
        if call.name in _READERS and call.result and call.result.get("status") == "error":
            return Answer(render.error_text(call))
    inventory = Inventory.read(situation)
    if level == "org":
        return _resolve_org(situation, scope, inventory)

    if scope.workspace is None:
        for word in words:
            if word in inventory.workspaces:
                scope.workspace = word
                words.remove(word)
                break
    wants_more = bool(words) or scope.target is not None or scope.project is not None
    if scope.workspace is None and (level != "optional" or wants_more):
        if not inventory.listed_workspaces:
            if situation.bound("platform_workspaces"):
                return ToolCalls([("platform_workspaces", {})])
            return Answer("Which workspace do you mean?", clarify=True, asks="workspace")
        if len(inventory.workspaces) == 1:
            scope.workspace = next(iter(inventory.workspaces))
        elif not inventory.workspaces:
            return Answer("You have no workspaces I can see, so there is nothing to look at yet.")
    if scope.workspace:
        scope.org = scope.org or inventory.workspaces.get(scope.workspace) or None

    if level == "workspace" or (level in ("narrow", "optional") and not wants_more):
        if scope.workspace is None and level != "optional":
            return _ask_workspace(inventory)
        return scope
    if scope.workspace and scope.project and (scope.target or level == "project"):
        return scope  # fully named: the tool itself says when something does not exist

    if level == "narrow" and scope.workspace and not situation.bound("platform_projects"):
        # No reads to place the other names (e.g. the incident specialist): the tool takes the
        # workspace, with the project and application when the words named them.
        return scope
    spaces = [scope.workspace] if scope.workspace else sorted(inventory.workspaces)
    if scope.project is None:
        missing = [w for w in spaces if w not in inventory.projects]
        if missing:
            if not situation.bound("platform_projects"):
                return Answer(
                    "Which project (namespace) do you mean?", clarify=True, asks="project"
                )
            return ToolCalls([("platform_projects", {"workspace": w}) for w in missing])
        named = [(w, p) for w in spaces for p in inventory.projects.get(w, []) if p in words]
        if len({w for w, _ in named}) == 1:
            scope.workspace, scope.project = named[0]
            words.remove(scope.project)
        everywhere = [(w, p) for w in spaces for p in inventory.projects.get(w, [])]
        if scope.project is None and len(everywhere) == 1:
            scope.workspace, scope.project = everywhere[0]
        if level == "project":
            if scope.project is None:
                choices = [f"{w}/{p}" for w, p in everywhere]
                return Answer(f"Which project do you mean: {_listing(choices)}?", clarify=True)
            return scope
    if not (words or scope.target) and level != "workload":
        return scope

    pairs = [
        (w, p)
        for w in ([scope.workspace] if scope.workspace else spaces)
        for p in ([scope.project] if scope.project else inventory.projects.get(w, []))
    ]
    unlisted = [pair for pair in pairs if pair not in inventory.workloads]
    if unlisted:
        if not situation.bound("platform_workloads"):
            return Answer("Which workspace and project is it in?", clarify=True)
        return ToolCalls(
            [("platform_workloads", {"workspace": w, "project": p}) for w, p in unlisted]
        )
    wanted = [scope.target] if scope.target else words
    matches = [
        (w, p, kind, name)
        for w, p in pairs
        for kind, name in inventory.workloads.get((w, p), [])
        if name in wanted
    ]
    places = sorted({(w, p) for w, p, _, _ in matches})
    if len(places) > 1:
        name = matches[0][3]
        where = ", ".join(f"`{w}/{p}`" for w, p in places)
        return Answer(
            f"`{name}` exists in more than one place: {where}. Which workspace do you mean?",
            clarify=True,
        )
    if matches:
        scope.workspace, scope.project, kind, name = matches[0]
        scope.application, scope.function = (name, None) if kind == "application" else (None, name)
        return scope
    known = sorted({n for pair in pairs for _, n in inventory.workloads.get(pair, [])})
    where = scope.path() if scope.workspace else "your workspaces"
    if scope.target or level == "workload":
        asked = " or ".join(f"`{w}`" for w in wanted)
        lead = f"I found no application or function named {asked} in {where}."
        if not wanted:
            lead = f"Which application in {where} do you mean?"
        return Answer(f"{lead} There are: {_listing(known)}.", clarify=True)
    scope.notes.append(f"no workload named {' or '.join(f'`{w}`' for w in words)} in {where}")
    if scope.workspace is None and level == "narrow":
        return _ask_workspace(inventory)
    return scope


def _ask_workspace(inventory: Inventory) -> Answer:
    names = sorted(inventory.workspaces)
    return Answer(f"Which workspace do you mean: {_listing(names)}?", clarify=True)


def _resolve_org(situation: Situation, scope: Scope, inventory: Inventory) -> Scope | Step:
    if scope.org:
        return scope
    if not inventory.orgs:
        for reader in ("platform_organizations", "platform_workspaces"):
            if situation.bound(reader) and not situation.turn.called(reader):
                return ToolCalls([(reader, {})])
        return Answer("Which organization do you mean?", clarify=True, asks="org")
    if len(inventory.orgs) == 1:
        scope.org = inventory.orgs[0]
        return scope
    return Answer(f"Which organization do you mean: {_listing(inventory.orgs)}?", clarify=True)
