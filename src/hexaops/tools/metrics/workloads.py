"""Which series belong to a workload: the pod-name rule, and a read's scope as label matchers.

Metrics carry `pod`, not the owning Deployment. Kubernetes names a Deployment's pods
`<deployment>-<pod-template-hash>-<suffix>` (a 5–10 character hash, then 5 random characters,
both from Kubernetes' vowel-free alphabet), a StatefulSet's `<name>-<ordinal>`, a DaemonSet's or
Job's `<name>-<suffix>`. The sandbox names pods as a Deployment does, with hex digests
(`checkout-<10 hex>-<5 hex>`). So the workload of a pod is its name without those trailing
parts, and a workload's pods are matched by an anchored regex built from its name — the same RE2
expression in PromQL and in ClickHouse `match()`. Known limit: names are all there is, so a
DaemonSet `checkout-bcdfg` would read as a pod of `checkout`; project (namespace) scoping keeps
such clashes local.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Final

from hexaops.platform.errors import NotFound

# Kubernetes' random names use an alphabet without vowels (no accidental words); the sandbox
# uses hex digests. A word like "api" or "frontend" is neither, so it stays in the name.
_K8S: Final = "[b-df-hj-np-tv-xz24-9]"  # bcdfghjklmnpqrstvwxz2456789
_HASH: Final = f"(?:{_K8S}{{5,10}}|[0-9a-f]{{10}})"  # ReplicaSet pod-template-hash
_SUFFIX: Final = f"(?:{_K8S}{{5}}|[0-9a-f]{{5}})"
_REGEX_SPECIAL: Final = re.compile(r"[\\.^$*+?()\[\]{}|]")
_OWNER: Final = re.compile(rf"^(.+?)(?:-{_HASH}-{_SUFFIX}|-{_SUFFIX}|-[0-9]+)$")


def workload_of(pod: str) -> str:
    """The workload (Deployment, StatefulSet, DaemonSet…) a pod belongs to, by its name."""
    match = _OWNER.match(pod)
    return match[1] if match else pod


def pod_pattern(workload: str) -> str:
    """An RE2 pattern (unanchored text; PromQL anchors it, ClickHouse callers add ^…$) matching
    the pods of `workload`."""
    name = regex_literal(workload)
    return f"{name}-(?:{_HASH}-)?{_SUFFIX}|{name}-[0-9]+"


def regex_literal(text: str) -> str:
    """`text` as an RE2 pattern matching itself (names are DNS labels: usually unchanged)."""
    return _REGEX_SPECIAL.sub(r"\\\g<0>", text)


def promql_string(value: str) -> str:
    """A PromQL double-quoted string literal (JSON escapes are valid Go escapes)."""
    return json.dumps(value)


@dataclass(frozen=True)
class Scope:
    """What a metrics read covers: an organization's workspaces the principal may see,
    optionally one project (namespace) and one workload in it."""

    org: str
    workspaces: tuple[str, ...]
    namespace: str | None = None
    workload: str | None = None

    def describe(self) -> str:
        where = "/".join(
            p for p in (self.org, self.single_workspace, self.namespace, self.workload) if p
        )
        return where if self.single_workspace else f"{where} ({len(self.workspaces)} workspaces)"

    @property
    def single_workspace(self) -> str | None:
        return self.workspaces[0] if len(self.workspaces) == 1 else None

    def tenant_matchers(self) -> list[str]:
        """The matchers every selector of a principal's query must carry."""
        return tenant_matchers(self.org, self.workspaces)

    def matchers(self) -> list[str]:
        found = self.tenant_matchers()
        if self.namespace is not None:
            found.append(f"namespace={promql_string(self.namespace)}")
        if self.workload is not None:
            found.append(f"pod=~{promql_string(pod_pattern(self.workload))}")
        return found


def tenant_matchers(org: str, workspaces: tuple[str, ...]) -> list[str]:
    if not workspaces:  # an empty alternation would match series without a workspace
        raise NotFound(f"you can see no workspace of {org}")
    if len(workspaces) == 1:
        ws = f"workspace={promql_string(workspaces[0])}"
    else:
        ws = f"workspace=~{promql_string('|'.join(regex_literal(w) for w in workspaces))}"
    return [f"org={promql_string(org)}", ws]
