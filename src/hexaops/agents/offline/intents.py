"""The intents the offline planner understands: one small class per intent.

An intent says how well a request matches it (`score`, from patterns over the user's words),
which scope it needs, which tool answers it with which arguments, and how to render the answer.
`plan` is re-run after every tool result, so multi-step intents (investigations, name lookups)
simply look at what has come back so far.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from hexaops.agents.offline import render
from hexaops.agents.offline.conversation import Call
from hexaops.agents.offline.remedies import owner_of_pod
from hexaops.agents.offline.scope import Level, Scope, resolve
from hexaops.agents.offline.steps import Answer, Situation, Step, ToolCalls


@dataclass
class Intent:
    """A request kind answered by one tool call once the scope is known."""

    name: str
    group: str
    tool: str
    examples: tuple[str, ...]
    patterns: tuple[tuple[str, int], ...]  # (regex, weight)
    level: Level = "optional"
    writes: bool = False
    next_step: str = ""  # a follow-up to suggest; {target} is the object the answer is about
    requires: tuple[str, ...] = ()  # patterns that must all match (e.g. a write's verb)
    compiled: list[tuple[re.Pattern[str], int]] = field(init=False)

    def __post_init__(self) -> None:
        self.compiled = [(re.compile(p), w) for p, w in self.patterns]

    def score(self, text: str) -> int:
        if not all(re.search(p, text) for p in self.requires):
            return 0
        return sum(weight for pattern, weight in self.compiled if pattern.search(text))

    def tools(self) -> tuple[str, ...]:
        return (self.tool,)

    def plan(self, s: Situation) -> Step:
        if not s.bound(self.tool):
            return missing_tool(self, s)
        done = s.turn.called(self.tool)
        if done:
            return Answer(self.render(s, done[-1]), proposal=self.propose(s, done[-1]))
        scope = resolve(s, self.scope_level(s))
        if not isinstance(scope, Scope):
            return scope
        args = self.arguments(s, scope)
        if not isinstance(args, dict):
            return args
        return ToolCalls([(self.tool, s.args(self.tool, **args))])

    def scope_level(self, s: Situation) -> Level:
        return self.level

    def propose(self, s: Situation, call: Call) -> tuple[str, dict[str, Any]] | None:
        """A write the answer offers (asked as a question; run only on the user's yes)."""
        return None

    def arguments(self, s: Situation, scope: Scope) -> dict[str, Any] | Step:
        return {
            "org": scope.org if scope.workspace is None else None,
            "workspace": scope.workspace,
            "project": scope.project,
            "workload": scope.target,
            "application": scope.application,
            "function": scope.function,
            "since": s.slots.since,
        }

    def render(self, s: Situation, call: Call) -> str:
        if call.result is None or call.result.get("status") == "error":
            return render.error_text(call)
        lines = [f"**{self.group}** — {render.quote(render.summary(call), 600)}", ""]
        if call.result.get("status") == "empty":
            lines[0] = f"**Nothing found** — {render.quote(render.summary(call), 600)}"
        highlights = render.highlights(call.data, known=render.summary(call))
        if highlights:
            lines += [highlights, ""]
        lines.append(f"Source: {render.source(call)}.")
        if s.slots.since_label:
            lines.append(f"Window: {s.slots.since_label} (since={s.slots.since}).")
        if call.result.get("truncated"):
            lines.append("The result was shortened to fit; ask about one object for details.")
        if suggestion := self.suggestion(s, call):
            lines += ["", f"Next: {suggestion}"]
        return "\n".join(lines)

    def suggestion(self, s: Situation, call: Call) -> str:
        target = call.args.get("workload") or call.args.get("application") or "it"
        return self.next_step.format(target=target) if self.next_step else ""


def missing_tool(intent: Intent, s: Situation) -> Answer:
    needed = ", ".join(f"`{t}`" for t in intent.tools() if not s.bound(t))
    return Answer(
        f"I can't do that here: *{intent.name.replace('_', ' ')}* needs {needed}, which is not "
        "available to me here. Ask for it as a request of its own."
    )


class WriteIntent(Intent):
    """A change through the action pipeline; the answer is the action's status."""

    def render(self, s: Situation, call: Call) -> str:
        status = render.action_status(call)
        return f"{status}\n\nSource: {render.source(call, objects=False)}."


class WorkspaceCreate(WriteIntent):
    def arguments(self, s: Situation, scope: Scope) -> dict[str, Any] | Step:
        name = s.slots.name or s.slots.workspace or next(iter(s.slots.candidates), None)
        if not name:
            return Answer("What should the new workspace be called?", clarify=True)
        pool = {"nodes": s.slots.nodes} if s.slots.plan == "dedicated" and s.slots.nodes else None
        return {
            "org": scope.org,
            "name": name,
            "plan_name": s.slots.plan,
            "node_pool": pool,
            "dry_run": s.slots.dry_run or None,
        }


class WorkspaceDelete(WriteIntent):
    def arguments(self, s: Situation, scope: Scope) -> dict[str, Any] | Step:
        return {"name": scope.workspace, "dry_run": s.slots.dry_run or None}


class ProjectWrite(WriteIntent):
    def arguments(self, s: Situation, scope: Scope) -> dict[str, Any] | Step:
        name = s.slots.name or s.slots.project
        if not name:
            return Answer("Which project (name)?", clarify=True)
        return {
            "workspace": scope.workspace,
            "name": name,
            "cpu": s.slots.cpu,
            "memory": s.slots.memory,
            "pods": s.slots.pods,
            "dry_run": s.slots.dry_run or None,
        }


class WorkloadWrite(WriteIntent):
    """scale / restart / rollback / delete of an application."""

    def arguments(self, s: Situation, scope: Scope) -> dict[str, Any] | Step:
        if scope.function and "application" in self.tool:
            return Answer(f"`{scope.function}` is a function; this works on applications.")
        if self.name == "scale" and s.slots.replicas is None:
            return Answer(f"To how many replicas should I scale `{scope.target}`?", clarify=True)
        return {
            "workspace": scope.workspace,
            "project": scope.project,
            "name": scope.target,
            "replicas": s.slots.replicas,
            "to_revision": s.slots.revision,
            "dry_run": s.slots.dry_run or None,
        }


class Deploy(WriteIntent):
    def scope_level(self, s: Situation) -> Level:
        # A new application from a full image in a named project needs no lookup.
        slots = s.slots
        if slots.image and "/" in slots.image and slots.workspace and slots.project:
            return "project"
        return "workload"

    def arguments(self, s: Situation, scope: Scope) -> dict[str, Any] | Step:
        slots = s.slots
        listed = s.turn.result(
            "platform_workloads", workspace=scope.workspace, project=scope.project
        )
        if listed is None and s.bound("platform_workloads"):
            # Know whether the app exists: a new tag keeps the running resources and replicas.
            args = {"workspace": scope.workspace, "project": scope.project}
            return ToolCalls([("platform_workloads", args)])
        image = slots.image if slots.image and "/" in slots.image else None
        name = (
            scope.target
            or slots.name
            or (image.rsplit("/", 1)[-1].split(":")[0] if image else None)
        )
        current = current_app(s, scope.workspace, scope.project, name)
        if image is None:
            tag = slots.tag or (slots.image.split(":", 1)[1] if slots.image else None)
            if current.get("image") and tag:
                image = f"{str(current['image']).rsplit(':', 1)[0]}:{tag}"
        if image is None:
            return Answer(
                f"Which image should I deploy to `{name}` (e.g. ghcr.io/acme/{name}:1.2.3)?",
                clarify=True,
            )
        resources = current.get("resources") or {}
        return {
            "workspace": scope.workspace,
            "project": scope.project,
            "name": name,
            "image": image,
            "replicas": slots.replicas or current.get("replicas"),
            "cpu_request": slots.cpu or resources.get("cpu_request"),
            "memory_request": slots.memory or resources.get("memory_request"),
            "cpu_limit": resources.get("cpu_limit"),
            "memory_limit": resources.get("memory_limit"),
            "dry_run": slots.dry_run or None,
        }


def current_app(
    s: Situation, workspace: str | None, project: str | None, name: str | None
) -> dict[str, Any]:
    """The application as platform_workloads listed it this turn, or {} when it is new."""
    call = s.turn.result("platform_workloads", workspace=workspace, project=project)
    data = call.data if call and isinstance(call.data, dict) else {}
    for app in data.get("applications") or []:
        if isinstance(app, dict) and app.get("name") == name:
            return app
    return {}


class ListRead(Intent):
    """Listings whose arguments are just the scope."""

    def arguments(self, s: Situation, scope: Scope) -> dict[str, Any] | Step:
        return {"workspace": scope.workspace, "project": scope.project}

    def render(self, s: Situation, call: Call) -> str:
        if call.result is None or call.result.get("status") == "error":
            return render.error_text(call)
        return f"{render.quote(render.summary(call), 900)}\n\nSource: {render.source(call)}."


class TopConsumers(Intent):
    def arguments(self, s: Situation, scope: Scope) -> dict[str, Any] | Step:
        text = s.slots.text
        by = "pod"
        if re.search(r"\b(apps?|applications?|workloads?|services?|deployments?)\b", text):
            by = "workload"
        elif re.search(r"\bprojects?\b|\bnamespaces?\b", text):
            by = "project"
        return {
            "workspace": scope.workspace,
            "project": scope.project,
            "resource": s.slots.resource or "memory",
            "by": by,
            "since": s.slots.since,
        }


class LogSearch(Intent):
    def arguments(self, s: Situation, scope: Scope) -> dict[str, Any] | Step:
        level = "ERROR" if re.search(r"\berrors?\b", s.slots.text) else None
        if not s.slots.phrase and not level:
            return Answer('What should I search the logs for (e.g. "timeout")?', clarify=True)
        return {
            "workspace": scope.workspace,
            "project": scope.project,
            "workload": scope.target,
            "contains": s.slots.phrase,
            "level": level,
            "since": s.slots.since,
        }


_LOCATED: Final = re.compile(r"^\S+ [A-Z]+ ([a-z0-9-]+)/([a-z0-9-]+)/([a-z0-9-]+):")
_FRAGMENT: Final = 6  # shortest literal part of a template worth searching for


class TopErrors(Intent):
    """The most frequent error templates, then who logs the top one: the template has no
    workload, so a search for its literal text names the pods (and their applications)."""

    def plan(self, s: Situation) -> Step:
        done = s.turn.called(self.tool)
        if not done or not done[-1].ok or s.turn.called("logs_search"):
            return super().plan(s)
        fragment = _fragment(done[-1].data)
        if fragment is None or not s.bound("logs_search"):
            return super().plan(s)
        args = {"level": "ERROR", "contains": fragment, "limit": 50, "since": s.slots.since}
        args["workspace"] = done[-1].args.get("workspace")
        return ToolCalls([("logs_search", s.args("logs_search", **args))])

    def render(self, s: Situation, call: Call) -> str:
        text = super().render(s, call)
        found = s.turn.result("logs_search")
        owners = _owners(found.data if found and found.ok else None)
        if not owners:
            return text
        logged = "; ".join(
            f"`{app}` in {where} ({len(pods)} pod(s): {', '.join(f'`{p}`' for p in pods[:3])})"
            for (where, app), pods in owners.items()
        )
        source = render.source(found) if found else ""
        return f"{text}\n\nThe top error is logged by {logged} — source: {source}."


def _fragment(data: Any) -> str | None:
    """The longest literal part of the top template (its variable parts are `<*>`)."""
    top = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    parts = [p.strip(" :,") for p in str(top.get("template") or "").split("<*>")]
    best = max(parts, key=len, default="")
    return best[:120] if len(best) >= _FRAGMENT else None


def _owners(lines: Any) -> dict[tuple[str, str], list[str]]:
    """(workspace/project, application) → pods, from rendered log lines."""
    owners: dict[tuple[str, str], list[str]] = {}
    for line in lines if isinstance(lines, list) else []:
        match = _LOCATED.match(str(line))
        if match:
            pod = match[3]
            key = (f"{match[1]}/{match[2]}", owner_of_pod(pod) or pod)
            pods = owners.setdefault(key, [])
            if pod not in pods:
                pods.append(pod)
    return owners


class Security(Intent):
    def arguments(self, s: Situation, scope: Scope) -> dict[str, Any] | Step:
        return {
            "workspace": scope.workspace,
            "project": scope.project,
            "application": scope.application,
            "min_severity": s.slots.severity,
        }


_PATCH: Final = re.compile(r"\b(patch\w*|fix\w*|remediat\w*|upgrad\w*|bump\w*|resolve)\b")
_LAST_NUMBER: Final = re.compile(r"(\d+)(?!.*\d)")


class Vulnerabilities(Security):
    """CVEs of the images; asked to patch one application, the answer offers to deploy it on
    the named tag, or on the next patch release of the tag it runs (same repository, replicas
    and resources, as read from platform_workloads)."""

    def plan(self, s: Situation) -> Step:
        done = s.turn.called(self.tool)
        if done and self._patching(s, done[-1]) and s.bound("platform_workloads"):
            where = {k: done[-1].args.get(k) for k in ("workspace", "project")}
            if not s.turn.called("platform_workloads", **where):
                return ToolCalls([("platform_workloads", where)])
        return super().plan(s)

    def _patching(self, s: Situation, call: Call) -> bool:
        return call.ok and bool(call.args.get("application")) and bool(_PATCH.search(s.slots.text))

    def propose(self, s: Situation, call: Call) -> tuple[str, dict[str, Any]] | None:
        if not self._patching(s, call):
            return None
        app = str(call.args["application"])
        where = {k: call.args.get(k) for k in ("workspace", "project")}
        current = current_app(s, where["workspace"], where["project"], app)
        groups = call.data if isinstance(call.data, list) else []
        image = str(current.get("image") or "") or next(
            (str(g["image"]) for g in groups if isinstance(g, dict) and g.get("image")), ""
        )
        repository, _, running = image.rpartition(":")
        tag = s.slots.tag or next_patch(running)
        if not repository or not tag or tag == running:
            return None
        if not current:  # no listing to copy the spec from: the security tool copies it
            return ("security_propose_image_bump", {**where, "application": app, "tag": tag})
        resources = current.get("resources") or {}
        keys = ("cpu_request", "memory_request", "cpu_limit", "memory_limit")
        spec = {k: resources[k] for k in keys if resources.get(k)}
        if current.get("replicas") is not None:
            spec["replicas"] = current["replicas"]
        image = f"{repository}:{tag}"
        return ("platform_application_deploy", {**where, "name": app, "image": image, **spec})

    def render(self, s: Situation, call: Call) -> str:
        text = super().render(s, call)
        offer = self.propose(s, call)
        if offer is None:
            return text
        app = offer[1].get("name") or offer[1].get("application")
        image = offer[1].get("image") or offer[1].get("tag")
        return (
            f"{text}\n\nShall I roll `{app}` out on `{image}` (same replicas and resources)? "
            "Reply **yes** to request the deploy (high-risk changes wait for approval), or name "
            "the patched tag if it is another one."
        )


def next_patch(tag: str) -> str | None:
    """The tag with its last number raised by one (1.4.2 → 1.4.3): the usual patch release."""
    match = _LAST_NUMBER.search(tag)
    if not match:
        return None
    return f"{tag[: match.start()]}{int(match[1]) + 1}{tag[match.end() :]}"


_CEILING: Final = re.compile(
    r"\b(can'?t|cannot|unable to|doesn'?t|does not|not) scale\b.*\benough\b"
    r"|\bscale (far|high) enough\b|\bmax(imum)? replicas\b|\bhpa\b|\bautoscal\w*"
)


class Recommend(Intent):
    """Scaling recommendations and what-ifs: the answer offers to apply the settings; asked
    about the autoscaler's bounds, it offers just the recommended autoscaler."""

    def propose(self, s: Situation, call: Call) -> tuple[str, dict[str, Any]] | None:
        if not call.ok:
            return None
        hpa = _hpa_change(call.data)
        app = call.args.get("application")
        # A "yes" approves one platform action: a recommendation that changes the autoscaler
        # and more offers the autoscaler first (the rest stays a proposal).
        if hpa and app and (_CEILING.search(s.slots.text) or len(_changes(call.data)) > 1):
            where = {k: call.args.get(k) for k in ("workspace", "project")}
            return ("platform_application_set_hpa", {**where, "name": app, **hpa})
        if not s.bound("scaling_apply"):
            return None
        keys = ("org", "workspace", "project", "application", "function", "since", "proposed")
        args = {k: v for k, v in call.args.items() if k in keys}
        return ("scaling_apply", s.args("scaling_apply", **args))

    def suggestion(self, s: Situation, call: Call) -> str:
        # Offer to apply only what a "yes" can actually do here.
        offer = self.propose(s, call)
        if offer and offer[0] == "platform_application_set_hpa":
            a = offer[1]
            return (
                f"reply **yes** to set the autoscaler of `{a['name']}` to {a['min_replicas']}–"
                f"{a['max_replicas']} replicas at {a['target_cpu_percent']}% CPU (the other "
                "changes stay proposals; high-risk changes wait for approval)."
            )
        return super().suggestion(s, call) if offer else ""


def _changes(data: Any) -> dict[str, Any]:
    """What a scaling recommendation changes (setting → from/to)."""
    changes = data.get("changes") if isinstance(data, dict) else None
    return changes if isinstance(changes, dict) else {}


def _hpa_change(data: Any) -> dict[str, int] | None:
    """The recommended autoscaler bounds, when the recommendation changes them."""
    hpa = _changes(data).get("hpa")
    to = hpa.get("to") if isinstance(hpa, dict) else None
    keys = ("min_replicas", "max_replicas", "target_cpu_percent")
    if not isinstance(to, dict) or not all(isinstance(to.get(k), int) for k in keys):
        return None
    return {k: int(to[k]) for k in keys}


class WhatIf(Recommend):
    def arguments(self, s: Situation, scope: Scope) -> dict[str, Any] | Step:
        slots = s.slots
        limit = bool(re.search(r"\blimits?\b", slots.text))
        proposed = {
            k: v
            for k, v in {
                "replicas": slots.replicas,
                "cpu_limit" if limit else "cpu_request": slots.cpu,
                "memory_limit" if limit else "memory_request": slots.memory,
            }.items()
            if v is not None
        }
        return {
            "workspace": scope.workspace,
            "project": scope.project,
            "application": scope.application,
            "function": scope.function,
            "since": slots.since,
            "proposed": proposed or "recommended",
        }


class Actions(Intent):
    def plan(self, s: Situation) -> Step:
        if s.slots.action_id is not None and s.bound("platform_action"):
            done = s.turn.called("platform_action")
            if done:
                return Answer(self.render(s, done[-1]))
            return ToolCalls([("platform_action", {"action_id": s.slots.action_id})])
        return super().plan(s)

    def arguments(self, s: Situation, scope: Scope) -> dict[str, Any] | Step:
        pending = re.search(r"\bpending\b|\bapprov", s.slots.text)
        return {"status": "pending" if pending else None}


class HowTo(Intent):
    """How-to questions, answered from the knowledge base with the request as the query."""

    def plan(self, s: Situation) -> Step:
        if not s.bound(self.tool):
            return missing_tool(self, s)
        done = s.turn.called(self.tool)
        if done:
            return Answer(self.render(s, done[-1]))
        return ToolCalls([(self.tool, {"query": s.turn.request.strip()[:300]})])

    def render(self, s: Situation, call: Call) -> str:
        if call.result is None or call.result.get("status") == "error":
            return render.error_text(call)
        if call.result.get("status") == "empty":
            return f"The docs have nothing on this: {render.quote(render.summary(call), 300)}."
        lines = ["**From the docs**", "", *render.passages(call.data, 3)]
        lines.append(
            f"\nSource: {render.source(call)} (query {render.quote(call.args.get('query'), 120)})."
        )
        return "\n".join(lines)


class Members(Intent):
    """Members of an organization: the org is named or the principal's only one."""

    def plan(self, s: Situation) -> Step:
        if not s.bound(self.tool):
            return missing_tool(self, s)
        done = s.turn.called(self.tool)
        if done:
            return Answer(self.render(s, done[-1]))
        org = s.slots.org or next(iter(s.slots.candidates), None)
        return ToolCalls([(self.tool, s.args(self.tool, org=org))])


class Events(Intent):
    """Kubernetes events of a project's namespace, of one workload when the words name one."""

    def scope_level(self, s: Situation) -> Level:
        return "workload" if s.slots.target or s.slots.candidates else "project"

    def arguments(self, s: Situation, scope: Scope) -> dict[str, Any] | Step:
        warning = re.search(r"\bwarnings?\b|\bfail\w*|\berrors?\b", s.slots.text)
        return {
            "workspace": scope.workspace,
            "project": scope.project,
            "object": scope.target,
            "type": "Warning" if warning else None,
            "since": s.slots.since,
        }


_REPLICA_RANGE = re.compile(
    r"\b(?:between|from|min(?:imum)?)\s+(\d+)\s+(?:and|to|-|max(?:imum)?)\s+(\d+)\b"
    r"|\b(\d+)\s*(?:-|to)\s*(\d+)\s+(?:replicas?|pods?|instances?)\b"
)
_CPU_TARGET = re.compile(r"\b(\d{1,3})\s*%")


class Autoscale(WriteIntent):
    """A horizontal pod autoscaler for an application: replica bounds and a CPU target."""

    def arguments(self, s: Situation, scope: Scope) -> dict[str, Any] | Step:
        if scope.function:
            return Answer(f"`{scope.function}` is a function; autoscalers are for applications.")
        bounds = _REPLICA_RANGE.search(s.slots.text)
        if not bounds:
            return Answer(
                f"Between how many replicas should `{scope.target}` autoscale (e.g. 2 to 10)?",
                clarify=True,
            )
        low, high = sorted(int(g) for g in bounds.groups() if g)
        target = _CPU_TARGET.search(s.slots.text)
        return {
            "workspace": scope.workspace,
            "project": scope.project,
            "name": scope.target,
            "min_replicas": low,
            "max_replicas": high,
            "target_cpu_percent": int(target[1]) if target else None,
            "dry_run": s.slots.dry_run or None,
        }
