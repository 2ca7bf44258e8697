"""Evaluation scenarios: the YAML format, its JSON schema, and loading with errors that point
at the file and line.

A scenario is a sandbox setup, faults to inject, a trigger (chat turns as a user, or an alert)
and expectations. A YAML file holds one scenario (a mapping with `id`) or several under
`scenarios:` (beside an optional `shared:` mapping for YAML anchors). Files are checked against `evals/scenario.schema.json` (generated from the models
here: `hexaops eval schema`), then by the models; every error names the file and the line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import jsonschema  # type: ignore[import-untyped]  # no stubs installed
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hexaops.platform.errors import InvalidInput
from hexaops.platform.sandbox.faults import CATALOG

Level = Literal["detection", "localization", "root_cause", "mitigation", "safety", "conversation"]
TASK_LEVELS: Final = ("detection", "localization", "root_cause", "mitigation")
SCHEMA_FILE: Final = "scenario.schema.json"

# One alternative or several: a fact [a, b] holds when the answer contains a or b.
Alternatives = str | list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Tags(_Strict):
    level: Level = Field(description="task level: what the scenario asks of the agent")
    category: str = Field(description="e.g. memory, deploy, network, tenancy, injection")
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    labels: list[str] = Field(default_factory=list, description="free labels: multi-fault, …")


class Operation(_Strict):
    """A platform operation run before the faults (extra workloads, HPAs, quotas)."""

    as_: str = Field(alias="as", description="email of the principal requesting it")
    operation: str = Field(description="platform operation kind, e.g. application.set_hpa")
    params: dict[str, Any] = Field(default_factory=dict)
    status: Literal["succeeded", "pending"] = Field(
        "succeeded", description="how it must end (pending: left for an approver)"
    )


class Plant(_Strict):
    """Text planted where the agent will read it (prompt injection, secrets in logs)."""

    where: Literal["log", "event", "document"]
    text: str
    org: str = "acme"
    workspace: str = "acme-prod"
    project: str = "shop"
    workload: str = "checkout"
    level: Literal["DEBUG", "INFO", "WARN", "ERROR", "FATAL"] = "ERROR"
    reason: str = Field("Warning", description="event reason (events only)")
    title: str = Field("Operations notes", description="document title (documents only)")
    repeat: int = Field(3, ge=1, le=100, description="how many copies (logs and events)")


class Setup(_Strict):
    seed: int = Field(42, description="simulation seed")
    warmup_minutes: float = Field(
        10, ge=0, le=240, description="clock run before the operations and faults"
    )
    operations: list[Operation] = Field(default_factory=list)
    plant: list[Plant] = Field(default_factory=list)


FaultName = Literal[tuple(sorted(CATALOG))]  # type: ignore[valid-type]


class Fault(_Strict):
    kind: FaultName  # type: ignore[valid-type]
    workspace: str = "acme-prod"
    org: str | None = Field(None, description="default: the organization owning the workspace")
    target: str = Field(
        description="a deployment name, PROJECT/name, `pod-of:APP` (its first pod), "
        "`node-of:APP` (the node of its first pod) or the workspace (dns_failure)"
    )
    at_minutes: float = Field(0, ge=0, description="start, in minutes after the warm-up")


class Approval(_Strict):
    decision: Literal["approve", "reject"]
    by: str | None = Field(None, description="who decides (default: the asker)")
    note: str = ""


class Turn(_Strict):
    say: str = Field(min_length=1)
    approval: Approval | None = Field(
        None, description="the decision on approval requests this turn raises (none: left)"
    )


class Alert(_Strict):
    """An alert as Alertmanager would send it; the harness hands it to the agents as a turn."""

    name: str
    severity: Literal["info", "warning", "critical"] = "warning"
    workspace: str
    project: str | None = None
    workload: str | None = None
    summary: str

    def as_message(self) -> str:
        where = "/".join(p for p in (self.workspace, self.project, self.workload) if p)
        return f"Alert {self.name} ({self.severity}) firing on {where}: {self.summary}"


class Trigger(_Strict):
    as_: str = Field(alias="as", description="email of the user who talks to the agents")
    turns: list[Turn] = Field(default_factory=list)
    alert: Alert | None = None
    approval: Approval | None = Field(None, description="with an alert: the decision")

    @model_validator(mode="after")
    def _one_kind(self) -> Trigger:
        if bool(self.turns) == (self.alert is not None):
            raise ValueError("give either turns or an alert")
        return self

    def messages(self) -> list[Turn]:
        if self.alert is not None:
            return [Turn(say=self.alert.as_message(), approval=self.approval)]
        return self.turns


class ToolExpect(_Strict):
    must: list[str] = Field(default_factory=list, description="each must be called")
    must_not: list[str] = Field(default_factory=list, description="none may be called")
    any_of: list[str] = Field(default_factory=list, description="at least one must be called")


class ActionExpect(_Strict):
    proposed: list[Alternatives] = Field(
        default_factory=list,
        description="operations the agent must propose (requested, or named in an answer); "
        "a list item is alternatives",
    )
    never: list[str] = Field(
        default_factory=list, description="operations the agent must never request"
    )


StateName = Literal[
    "fault_resolved",
    "fault_active",
    "error_rate_below",
    "no_write_executed",
    "action_executed",
    "action_not_executed",
    "workspace_exists",
    "application_exists",
    "replicas",
]


class StateCheck(_Strict):
    """A check of the sandbox after the turns, approvals and `after_minutes` of clock."""

    check: StateName
    fault: int | None = Field(None, ge=0, description="index into faults (default: all)")
    org: str = "acme"
    workspace: str = "acme-prod"
    project: str = "shop"
    workload: str | None = None
    operation: str | None = None
    percent: float | None = Field(None, ge=0, le=100)
    minutes: float = Field(5, gt=0, le=240)
    replicas: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _needs(self) -> StateCheck:
        needed = {
            "error_rate_below": ("workload", "percent"),
            "action_executed": ("operation",),
            "action_not_executed": ("operation",),
            "application_exists": ("workload",),
            "replicas": ("workload", "replicas"),
        }.get(self.check, ())
        missing = [n for n in needed if getattr(self, n) is None]
        if missing:
            raise ValueError(f"check {self.check} needs {', '.join(missing)}")
        return self


class Expect(_Strict):
    answer: bool = Field(True, description="the last turn must end with an answer")
    tools: ToolExpect = Field(default_factory=ToolExpect)
    facts: list[Alternatives] = Field(
        default_factory=list, description="each must appear in the answers (case-insensitive)"
    )
    facts_absent: list[str] = Field(
        default_factory=list, description="none may appear in the answers (leaks, obeyed text)"
    )
    actions: ActionExpect = Field(default_factory=ActionExpect)
    state: list[StateCheck] = Field(default_factory=list)


class Scenario(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str
    description: str = ""
    tags: Tags
    setup: Setup = Field(default_factory=Setup)
    faults: list[Fault] = Field(default_factory=list)
    advance_minutes: float = Field(30, ge=0, le=240, description="clock run after injection")
    trigger: Trigger
    expect: Expect
    after_minutes: float = Field(
        10, ge=0, le=240, description="clock run after the turns, before the state checks"
    )
    source: str = Field("", exclude=True, description="file:line it was read from (set)")

    @model_validator(mode="after")
    def _fault_indexes(self) -> Scenario:
        for check in self.expect.state:
            if check.fault is not None and check.fault >= len(self.faults):
                raise ValueError(f"state check {check.check}: no fault #{check.fault}")
        return self


# -- the JSON schema -------------------------------------------------------------------------


def json_schema() -> dict[str, Any]:
    """The scenario JSON schema (what `evals/scenario.schema.json` holds)."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema["properties"].pop("source", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "hexaops evaluation scenario"
    return schema


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


# -- loading ---------------------------------------------------------------------------------


class ScenarioError(InvalidInput):
    """A scenario file that cannot be used; the message names the file and line."""


YamlPath = tuple[str | int, ...]


def _line_of(node: yaml.Node | None, path: Sequence[str | int]) -> int:
    """The 1-based line of the YAML node at `path` (the deepest one that exists)."""
    if node is None:
        return 1
    line = int(node.start_mark.line) + 1
    for step in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            child = node.value[step] if step < len(node.value) else None
        if child is None:
            break
        node, line = child, int(child.start_mark.line) + 1
    return line


def _where(path: Sequence[str | int]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "the document"


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "enum" and isinstance(error.validator_value, list):
        choices = ", ".join(str(v) for v in error.validator_value)
        what = "fault kind" if list(error.absolute_path)[-1:] == ["kind"] else "value"
        return f"unknown {what} {error.instance!r}: choose one of {choices}"
    if error.validator == "additionalProperties":
        return f"{error.message} (check the spelling against the schema)"
    return str(error.message)


def _validator(schema_path: Path | None) -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_path.read_text()) if schema_path else json_schema()
    return jsonschema.Draft202012Validator(schema)


def _parse(file: Path) -> tuple[Any, yaml.Node | None]:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{file}: cannot read: {exc.strerror}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context_mark", None)
        if context is not None and getattr(exc, "context", None):
            problem += f" ({exc.context} at line {context.line + 1})"
        raise ScenarioError(f"{file}{line}: not valid YAML: {problem}") from None
    return data, node


def load_file(file: Path, schema_path: Path | None = None) -> list[Scenario]:
    """The scenarios of one YAML file, or ScenarioError listing every problem with its line."""
    data, node = _parse(file)
    # `shared:` holds YAML anchors the scenarios refer to (repeated setup, turns).
    if isinstance(data, dict) and "scenarios" in data and set(data) <= {"scenarios", "shared"}:
        items: list[tuple[YamlPath, Any]] = [
            (("scenarios", i), item) for i, item in enumerate(data["scenarios"] or [])
        ]
    else:
        items = [((), data)]
    validator = _validator(schema_path)
    problems: list[str] = []
    scenarios: list[Scenario] = []
    for prefix, item in items:
        errors = sorted(validator.iter_errors(item), key=lambda e: list(map(str, e.path)))
        for error in errors[:10]:
            path = (*prefix, *error.absolute_path)
            problems.append(
                f"{file}:{_line_of(node, path)}: {_where(path)}: {_schema_message(error)}"
            )
        if errors:
            continue
        try:
            scenario = Scenario.model_validate(item)
        except ValidationError as exc:
            for err in exc.errors()[:10]:
                path = (*prefix, *(p for p in err["loc"] if isinstance(p, str | int)))
                message = str(err["msg"]).removeprefix("Value error, ")
                problems.append(f"{file}:{_line_of(node, path)}: {_where(path)}: {message}")
            continue
        scenario.source = f"{file}:{_line_of(node, prefix)}"
        scenarios.append(scenario)
    if problems:
        raise ScenarioError("\n".join(problems))
    return scenarios


def suite_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ScenarioError(f"{path}: no such suite (a directory of .yaml files, or one file)")
    files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
    if not files:
        raise ScenarioError(f"{path}: no scenario files (*.yaml) in it")
    return files


def find_schema(start: Path) -> Path | None:
    """`scenario.schema.json` in the suite's directory or a parent (evals/), if there is one."""
    for folder in (start if start.is_dir() else start.parent, *start.resolve().parents):
        candidate = folder / SCHEMA_FILE
        if candidate.is_file():
            return candidate
    return None


def load_suite(paths: Iterable[Path], only: Sequence[str] = ()) -> list[Scenario]:
    """Every scenario of the given suites (directories or files); ids must be unique.
    `only`: keep the scenarios whose id contains one of these strings."""
    problems: list[str] = []
    scenarios: list[Scenario] = []
    for path in paths:
        schema = find_schema(path)
        for file in suite_files(path):
            try:
                scenarios.extend(load_file(file, schema))
            except ScenarioError as exc:
                problems.append(exc.message)
    seen: dict[str, str] = {}
    for s in scenarios:
        if s.id in seen:
            problems.append(f"{s.source}: duplicate scenario id {s.id!r} (also {seen[s.id]})")
        seen[s.id] = s.source
    if problems:
        raise ScenarioError("\n".join(problems))
    if only:
        scenarios = [s for s in scenarios if any(o in s.id for o in only)]
        if not scenarios:
            raise ScenarioError(f"no scenario id contains {', '.join(only)}")
    return scenarios
