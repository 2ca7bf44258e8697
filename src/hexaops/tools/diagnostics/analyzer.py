"""The analyzer interface and registry: one analyzer per concern, all reading one scope."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, TypeVar

from hexaops.tools.diagnostics.findings import Finding, rank
from hexaops.tools.diagnostics.scope import DiagnosticScope


class Analyzer(ABC):
    """Looks at a scope for one kind of trouble and reports a finding per affected object.
    Analyzers work from what the cluster shows (pod states, events, logs, metrics), never
    from how the trouble was caused."""

    name: ClassVar[str]
    concern: ClassVar[str]  # one line: what it detects

    @abstractmethod
    def analyze(self, scope: DiagnosticScope) -> list[Finding]: ...


ANALYZERS: dict[str, Analyzer] = {}
A = TypeVar("A", bound=type[Analyzer])


def register(cls: A) -> A:
    """Class decorator: add an analyzer to the registry under its name."""
    if cls.name in ANALYZERS:
        raise ValueError(f"analyzer {cls.name!r} is registered twice")
    ANALYZERS[cls.name] = cls()
    return cls


def analyze(scope: DiagnosticScope, analyzers: list[Analyzer] | None = None) -> list[Finding]:
    """Run the analyzers (default: all registered) over the scope; findings ranked."""
    found: list[Finding] = []
    for analyzer in ANALYZERS.values() if analyzers is None else analyzers:
        found.extend(analyzer.analyze(scope))
    return rank(found)
