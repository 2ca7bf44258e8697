"""Domain vocabulary of the platform: roles, plans, lifecycles, quotas, principals."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hexaops.platform.errors import InvalidInput
from hexaops.platform.names import format_cpu, format_memory, parse_cpu, parse_memory


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    DEVELOPER = "developer"
    VIEWER = "viewer"

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(r.value for r in cls)
            raise InvalidInput(f"unknown role {value!r}: choose one of {choices}") from None


class Plan(StrEnum):
    SHARED = "shared"
    DEDICATED = "dedicated"

    @classmethod
    def parse(cls, value: str) -> Plan:
        try:
            return cls(value)
        except ValueError:
            raise InvalidInput(
                f"unknown plan {value!r}: choose 'shared' (vCluster on shared nodes) "
                "or 'dedicated' (vCluster with its own node pool)"
            ) from None


class WorkspaceStatus(StrEnum):
    """vCluster lifecycle: pending → provisioning → ready | failed → deleting → deleted."""

    PENDING = "pending"
    PROVISIONING = "provisioning"
    READY = "ready"
    FAILED = "failed"
    DELETING = "deleting"
    DELETED = "deleted"


class ObjectStatus(StrEnum):
    """Lifecycle of objects inside a workspace (projects, applications, functions)."""

    PENDING = "pending"
    ACTIVE = "active"
    FAILED = "failed"
    DELETING = "deleting"
    DELETED = "deleted"


class ActionStatus(StrEnum):
    PENDING = "pending"  # waits for an approver
    APPROVED = "approved"
    REJECTED = "rejected"
    EXECUTING = "executing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Risk(StrEnum):
    LOW = "low"  # auto-approved by policy
    HIGH = "high"  # destructive or disruptive: waits for a human approver


KUBERNETES_VERSIONS = ("1.32", "1.33", "1.34")
DEFAULT_KUBERNETES_VERSION = "1.34"


class Quota(BaseModel):
    """Resource quota of a project namespace (or a cap of a workspace plan)."""

    model_config = ConfigDict(frozen=True)

    cpu_millis: int = Field(ge=0)
    memory_bytes: int = Field(ge=0)
    pods: int = Field(ge=0)

    @classmethod
    def parse(cls, cpu: str | int | float, memory: str | int, pods: int) -> Quota:
        cpu_millis, memory_bytes = parse_cpu(cpu), parse_memory(memory)
        if cpu_millis <= 0 or memory_bytes <= 0 or pods <= 0:
            raise InvalidInput("quota values must be positive: cpu > 0, memory > 0, pods > 0")
        return cls(cpu_millis=cpu_millis, memory_bytes=memory_bytes, pods=pods)

    def __add__(self, other: Quota) -> Quota:
        return Quota(
            cpu_millis=self.cpu_millis + other.cpu_millis,
            memory_bytes=self.memory_bytes + other.memory_bytes,
            pods=self.pods + other.pods,
        )

    def exceeding(self, cap: Quota) -> list[str]:
        """Names the dimensions in which this quota is larger than `cap`."""
        over = []
        if self.cpu_millis > cap.cpu_millis:
            over.append(f"cpu {format_cpu(self.cpu_millis)} > {format_cpu(cap.cpu_millis)}")
        if self.memory_bytes > cap.memory_bytes:
            over.append(
                f"memory {format_memory(self.memory_bytes)} > {format_memory(cap.memory_bytes)}"
            )
        if self.pods > cap.pods:
            over.append(f"pods {self.pods} > {cap.pods}")
        return over

    def describe(self) -> dict[str, str | int]:
        return {
            "cpu": format_cpu(self.cpu_millis),
            "memory": format_memory(self.memory_bytes),
            "pods": self.pods,
        }


ZERO_QUOTA = Quota(cpu_millis=0, memory_bytes=0, pods=0)


class NodePool(BaseModel):
    """Dedicated nodes of a workspace on the dedicated plan."""

    model_config = ConfigDict(frozen=True)

    nodes: int = Field(default=3, ge=1, le=50)
    cpu_per_node: str = "8"
    memory_per_node: str = "32Gi"

    @field_validator("cpu_per_node")
    @classmethod
    def _cpu(cls, value: str) -> str:
        parse_cpu(value)
        return value

    @field_validator("memory_per_node")
    @classmethod
    def _memory(cls, value: str) -> str:
        parse_memory(value)
        return value

    def capacity(self) -> Quota:
        return Quota(
            cpu_millis=self.nodes * parse_cpu(self.cpu_per_node),
            memory_bytes=self.nodes * parse_memory(self.memory_per_node),
            pods=self.nodes * 110,  # the kubelet's default max-pods per node
        )


SHARED_PLAN_CAP = Quota(cpu_millis=16_000, memory_bytes=32 * 2**30, pods=200)


def plan_cap(plan: Plan, node_pool: NodePool | None) -> Quota:
    """The most a workspace may hand out to its projects, summed over all of them."""
    if plan is Plan.DEDICATED:
        return (node_pool or NodePool()).capacity()
    return SHARED_PLAN_CAP


class Resources(BaseModel):
    """Per-container requests and limits of an application."""

    model_config = ConfigDict(frozen=True)

    cpu_request_millis: int = Field(default=100, gt=0)
    memory_request_bytes: int = Field(default=128 * 2**20, gt=0)
    cpu_limit_millis: int = Field(default=500, gt=0)
    memory_limit_bytes: int = Field(default=256 * 2**20, gt=0)

    @classmethod
    def parse(
        cls,
        cpu_request: str = "100m",
        memory_request: str = "128Mi",
        cpu_limit: str | None = None,
        memory_limit: str | None = None,
    ) -> Resources:
        cpu_req, mem_req = parse_cpu(cpu_request), parse_memory(memory_request)
        cpu_lim = parse_cpu(cpu_limit) if cpu_limit else max(cpu_req, 500)
        mem_lim = parse_memory(memory_limit) if memory_limit else max(mem_req, 256 * 2**20)
        if cpu_req <= 0 or mem_req <= 0:
            raise InvalidInput("resource requests must be positive")
        if cpu_lim < cpu_req or mem_lim < mem_req:
            raise InvalidInput("a limit must be at least its request (cpu and memory)")
        return cls(
            cpu_request_millis=cpu_req,
            memory_request_bytes=mem_req,
            cpu_limit_millis=cpu_lim,
            memory_limit_bytes=mem_lim,
        )

    def for_replicas(self, replicas: int) -> Quota:
        """What `replicas` pods of this application consume from a project quota."""
        return Quota(
            cpu_millis=self.cpu_request_millis * replicas,
            memory_bytes=self.memory_request_bytes * replicas,
            pods=replicas,
        )

    def describe(self) -> dict[str, str]:
        return {
            "cpu_request": format_cpu(self.cpu_request_millis),
            "memory_request": format_memory(self.memory_request_bytes),
            "cpu_limit": format_cpu(self.cpu_limit_millis),
            "memory_limit": format_memory(self.memory_limit_bytes),
        }


@dataclass(frozen=True)
class Principal:
    """Who is asking: a platform user, or an automation policy acting for one organization.

    The principal comes from authentication (CLI `--as`, an OIDC token, a Slack mapping, an
    alert's automation policy) — never from model-chosen arguments.
    """

    id: str  # "owner@acme.example" or "automation:<policy>@<org>"
    user_id: int | None = None
    automation_org_id: int | None = None
    automation_role: Role | None = None

    @property
    def is_automation(self) -> bool:
        return self.automation_org_id is not None

    def to_record(self) -> dict[str, str | int | None]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "automation_org_id": self.automation_org_id,
            "automation_role": None if self.automation_role is None else self.automation_role.value,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Principal:
        role = record.get("automation_role")
        return cls(
            id=record["id"],
            user_id=record.get("user_id"),
            automation_org_id=record.get("automation_org_id"),
            automation_role=None if role is None else Role(role),
        )
