"""One topology snapshot with everything derived from it: load, pods, series layout, effects.

The simulation rebuilds the world when the topology changes (a fault starts or ends, the HPA
scales); per-pod state carries over through `saved_states`.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hexaops.platform.sandbox.effects import ActiveFault, Effects, apply_fault
from hexaops.platform.sandbox.emission import SeriesLayout
from hexaops.platform.sandbox.functions import FunctionRuntime
from hexaops.platform.sandbox.load import LoadModel, dependency_edges
from hexaops.platform.sandbox.observations import Observer
from hexaops.platform.sandbox.runtime import PodRuntime, TickResult
from hexaops.platform.sandbox.topology import Topology


class World:
    """Everything derived from one topology snapshot; rebuilt when the topology changes."""

    def __init__(
        self,
        topo: Topology,
        states: dict[tuple[str, str, str], dict[str, Any]],
        faults: list[ActiveFault],
        seed: int,
        epoch: datetime,
    ) -> None:
        self.topo = topo
        self.load = LoadModel(topo.deployments, seed, epoch.hour + epoch.minute / 60)
        self.runtime = PodRuntime(topo, states, self.load)
        self.functions = FunctionRuntime(
            topo.functions, states, seed, epoch.hour + epoch.minute / 60
        )
        self.edges = dependency_edges(topo.deployments)
        self.layout = SeriesLayout(topo, self.runtime)
        self.observer = Observer(topo.deployments, self.runtime, self.edges)
        self.set_faults(faults)

    def set_faults(self, faults: list[ActiveFault]) -> None:
        topo, rt = self.topo, self.runtime
        app_index = {d.key: i for i, d in enumerate(topo.deployments)}
        pods_of_app: list[list[int]] = [[] for _ in topo.deployments]
        for p, a in enumerate(rt.pod_app.tolist()):
            pods_of_app[a].append(p)
        by_cluster: dict[str, list[int]] = {}
        for i, d in enumerate(topo.deployments):
            by_cluster.setdefault(d.cluster, []).append(i)
        nodes = {n.name: i for i, n in enumerate(topo.nodes)}
        names = [rt.pod_name(p) for p in range(len(rt.pod_keys))]
        self.fx = Effects.none(len(topo.deployments), len(rt.pod_keys), len(topo.nodes))
        for fault in faults:
            apply_fault(
                self.fx, fault, app_index, pods_of_app, names, rt.pod_node, nodes, by_cluster
            )

    def saved_states(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        return {**self.runtime.saved_states(), **self.functions.saved_states()}

    def hpa_desired(self, res: TickResult) -> NDArray[np.int64]:
        desired = np.array([d.spec.replicas for d in self.topo.deployments], dtype=np.int64)
        for a, d in enumerate(self.topo.deployments):
            if d.hpa is None:
                continue
            if res.app_ready[a] == 0:
                continue  # no pod reports metrics: the HPA controller leaves the scale alone
            ratio = res.app_utilization[a] / (d.hpa.target_cpu_percent / 100)
            want = d.spec.replicas if abs(ratio - 1) <= 0.1 else math.ceil(res.app_ready[a] * ratio)
            want = max(want, int(self.fx.hpa_floor[a]))
            desired[a] = min(max(want, d.hpa.min_replicas), d.hpa.max_replicas)
        return desired
