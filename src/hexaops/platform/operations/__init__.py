"""Every platform operation, by kind. Stored actions are rebuilt from here when approved."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from hexaops.platform.errors import InvalidInput
from hexaops.platform.operations.applications import (
    DeleteApplication,
    DeployApplication,
    RestartApplication,
    RollbackApplication,
    ScaleApplication,
    SetApplicationAutoscaling,
)
from hexaops.platform.operations.base import ActionPlan, Change, OpContext, Operation
from hexaops.platform.operations.functions import DeleteFunction, DeployFunction, SetFunctionScaling
from hexaops.platform.operations.maintenance import (
    DeleteNetworkPolicy,
    DeletePod,
    RenewCertificate,
    RestartWorkspaceDns,
)
from hexaops.platform.operations.members import AddMember, RemoveMember
from hexaops.platform.operations.nodes import CordonNode, DrainNode, UncordonNode
from hexaops.platform.operations.projects import CreateProject, DeleteProject, UpdateProjectQuota
from hexaops.platform.operations.workspaces import CreateWorkspace, DeleteWorkspace

OPERATIONS: dict[str, type[Operation]] = {
    op.kind: op
    for op in (
        CreateWorkspace,
        DeleteWorkspace,
        CreateProject,
        UpdateProjectQuota,
        DeleteProject,
        DeployApplication,
        ScaleApplication,
        RestartApplication,
        RollbackApplication,
        DeleteApplication,
        SetApplicationAutoscaling,
        DeployFunction,
        SetFunctionScaling,
        DeleteFunction,
        AddMember,
        RemoveMember,
        DeletePod,
        CordonNode,
        UncordonNode,
        DrainNode,
        RenewCertificate,
        DeleteNetworkPolicy,
        RestartWorkspaceDns,
    )
}


def build_operation(kind: str, params: dict[str, Any]) -> Operation:
    """An operation from its kind and parameters, with validation errors as InvalidInput."""
    try:
        cls = OPERATIONS[kind]
    except KeyError:
        raise InvalidInput(
            f"unknown operation {kind!r}: choose one of {', '.join(OPERATIONS)}"
        ) from None
    try:
        return cls.model_validate(params)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "input"
        parts.append(f"{where}: {error['msg']}")
    return "invalid input — " + "; ".join(parts)


__all__ = [
    "OPERATIONS",
    "ActionPlan",
    "Change",
    "OpContext",
    "Operation",
    "build_operation",
]
